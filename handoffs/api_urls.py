"""Mounted under /api/: handoffs (with the deadlines API beside them in this namespace, config.urls)."""

from django.urls import path

from . import apis as handoff_api

app_name = "handoffs-api"

urlpatterns = [
    path("handoffs/", handoff_api.HandoffListApi.as_view(), name="handoffs"),
    path("cases/<int:case_id>/handoffs/", handoff_api.HandoffSendApi.as_view(), name="send"),
    path("handoffs/<int:handoff_id>/", handoff_api.HandoffDetailApi.as_view(), name="handoff"),
    path("handoffs/<int:handoff_id>/accept/", handoff_api.HandoffAcceptApi.as_view(), name="accept"),
    path("handoffs/<int:handoff_id>/decline/", handoff_api.HandoffDeclineApi.as_view(), name="decline"),
    path("handoffs/<int:handoff_id>/withdraw/", handoff_api.HandoffWithdrawApi.as_view(), name="withdraw"),
    path("handoffs/<int:handoff_id>/complete/", handoff_api.HandoffCompleteApi.as_view(), name="complete"),
]
