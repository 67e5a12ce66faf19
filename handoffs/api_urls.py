"""Mounted under /api/: handoffs (with the deadlines API beside them in this namespace, config.urls)."""

from django.urls import include, path

from . import apis

app_name = "handoffs-api"

urlpatterns = [
    path("handoffs/", apis.HandoffListApi.as_view(), name="handoffs"),
    path("cases/<int:case_id>/handoffs/", apis.HandoffSendApi.as_view(), name="send"),
    path("handoffs/<int:handoff_id>/", include([
        path("", apis.HandoffDetailApi.as_view(), name="handoff"),
        path("accept/", apis.HandoffAcceptApi.as_view(), name="accept"),
        path("decline/", apis.HandoffDeclineApi.as_view(), name="decline"),
        path("withdraw/", apis.HandoffWithdrawApi.as_view(), name="withdraw"),
        path("complete/", apis.HandoffCompleteApi.as_view(), name="complete"),
    ])),
]
