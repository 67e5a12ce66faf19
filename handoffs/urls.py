"""Mounted at /handoffs/: notifications link to /handoffs/<id>/ (handoffs.selectors.handoff_path)."""

from django.urls import path

from . import views

app_name = "handoffs"

urlpatterns = [
    path("incoming/", views.handoff_incoming, name="incoming"),
    path("outgoing/", views.handoff_outgoing, name="outgoing"),
    path("new/<int:case_id>/", views.handoff_send_page, name="send"),
    path("<int:handoff_id>/", views.handoff_detail, name="detail"),
    path("<int:handoff_id>/accept/", views.handoff_accept_page, name="accept"),
    path("<int:handoff_id>/decline/", views.handoff_decline_page, name="decline"),
    path("<int:handoff_id>/withdraw/", views.handoff_withdraw_page, name="withdraw"),
    path("<int:handoff_id>/complete/", views.handoff_complete_page, name="complete"),
]
