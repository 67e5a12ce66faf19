from django.urls import path

from . import apis

app_name = "conferences-api"

urlpatterns = [
    path("meetings/", apis.MeetingCollectionApi.as_view(), name="meetings"),
    path("meetings/awaiting/", apis.AwaitingApi.as_view(), name="awaiting"),
    path("meetings/<int:meeting_id>/", apis.MeetingItemApi.as_view(), name="meeting"),
    path("meetings/<int:meeting_id>/agenda/", apis.MeetingAgendaApi.as_view(), name="agenda"),
    path("meetings/<int:meeting_id>/invitable/", apis.MeetingInvitableApi.as_view(), name="invitable"),
    path("meetings/<int:meeting_id>/invitations/", apis.MeetingInviteApi.as_view(), name="invite"),
    path("meetings/<int:meeting_id>/cancel/", apis.MeetingCancelApi.as_view(), name="cancel"),
    path("meetings/<int:meeting_id>/attendance/", apis.MeetingAttendanceApi.as_view(), name="attendance"),
    path("meetings/<int:meeting_id>/contributions/", apis.MeetingContributeApi.as_view(), name="contribute"),
    path("meetings/<int:meeting_id>/held/", apis.MeetingHoldApi.as_view(), name="hold"),
    path("meetings/<int:meeting_id>/decisions/", apis.MeetingDecisionApi.as_view(), name="decide"),
    path("meetings/<int:meeting_id>/minutes/sign/", apis.MeetingSignApi.as_view(), name="sign"),
    path("meetings/<int:meeting_id>/minutes/corrections/", apis.MeetingCorrectApi.as_view(), name="correct"),
    path("meetings/<int:meeting_id>/plan-items/", apis.MeetingPlanItemApi.as_view(), name="plan-add"),
    path("plan-items/", apis.MyPlanItemsApi.as_view(), name="plan-items"),
    path("plan-items/<int:item_id>/finish/", apis.PlanItemFinishApi.as_view(), name="plan-finish"),
    path("cases/<int:case_id>/plan-items/", apis.CasePlanApi.as_view(), name="case-plan"),
]
