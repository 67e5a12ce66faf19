"""Mounted under /api/: handoffs (with the deadlines API beside them in this namespace, config.urls)."""

from django.urls import path

from config.routes import member_routes

from . import apis

app_name = "handoffs-api"

urlpatterns = [
    path("handoffs/", apis.HandoffListApi.as_view(), name="handoffs"),
    path("cases/<int:case_id>/handoffs/", apis.HandoffSendApi.as_view(), name="send"),
    path("handoffs/<int:handoff_id>/", member_routes(
        apis.HandoffDetailApi.as_view(), "handoff",
        accept=apis.HandoffAcceptApi.as_view(),
        decline=apis.HandoffDeclineApi.as_view(),
        withdraw=apis.HandoffWithdrawApi.as_view(),
        complete=apis.HandoffCompleteApi.as_view(),
    )),
]
