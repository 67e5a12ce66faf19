"""Mounted at /handoffs/: notifications link to /handoffs/<id>/ (handoffs.selectors.handoff_path)."""

from django.urls import include, path

from . import views

app_name = "handoffs"

urlpatterns = [
    path("incoming/", views.handoff_incoming, name="incoming"),
    path("outgoing/", views.handoff_outgoing, name="outgoing"),
    path("new/<int:case_id>/", views.handoff_send_page, name="send"),
    path("<int:handoff_id>/", include([
        path("", views.handoff_detail, name="detail"),
        path("accept/", views.handoff_accept_page, name="accept"),
        path("decline/", views.handoff_decline_page, name="decline"),
        path("withdraw/", views.handoff_withdraw_page, name="withdraw"),
        path("complete/", views.handoff_complete_page, name="complete"),
    ])),
]
