"""Mounted at /handoffs/: notifications link to /handoffs/<id>/ (handoffs.selectors.handoff_path)."""

from django.urls import path

from config.routes import member_routes

from . import views

app_name = "handoffs"

urlpatterns = [
    path("incoming/", views.handoff_incoming, name="incoming"),
    path("outgoing/", views.handoff_outgoing, name="outgoing"),
    path("new/<int:case_id>/", views.handoff_send_page, name="send"),
    path("<int:handoff_id>/", member_routes(
        views.handoff_detail, "detail",
        accept=views.handoff_accept_page,
        decline=views.handoff_decline_page,
        withdraw=views.handoff_withdraw_page,
        complete=views.handoff_complete_page,
    )),
]
