"""Mounted under /api/: handoffs, and the deadlines of a case."""

from django.urls import path

from cases import deadline_api

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
    path("cases/<int:case_id>/deadlines/", deadline_api.CaseDeadlineCollectionApi.as_view(), name="deadlines"),
    path("cases/<int:case_id>/deadlines/<int:deadline_id>/done/", deadline_api.CaseDeadlineDoneApi.as_view(),
         name="deadline-done"),
]
