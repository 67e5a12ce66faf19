"""The case-meeting API: the coordinator's list, meetings (list, schedule, one), the agenda,
invitations (with what each agency may see), attendance, contributions, held, decisions, minutes
(sign, correct), plan items (add, mine, a case's, finish).

Access first, input second (as the handoff API): a meeting the caller's agencies take no part in is
404, a missing role 403, and only then is the body checked (400 with messages by field). Writes go
through conferences.services, reads through conferences.selectors.
"""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from cases.apis import CaseRecordListApi, OncePerKeyApi
from cases.serializers import CaseAgencyRefSerializer, CaseRecordSerializer, CaseUserRefSerializer
from config.api import ApiView, DateTimeField, action_schema, list_schema, responses
from permissions.categories import ACTION_CATEGORY_CHOICES
from risk.selectors import EligibilityReason

from . import serializers as inputs
from . import services
from .models import (
    MEETING_MACHINE,
    MINUTES_MACHINE,
    CaseMeeting,
    MeetingMode,
    MeetingStatus,
    MinutesStatus,
    PlanItemStatus,
)
from .selectors import (
    MeetingAccess,
    agencies_invitable,
    cases_awaiting_meeting,
    contributions_visible,
    coordinator_agency_for,
    decisions_visible,
    meeting_actions,
    meeting_agenda_visible,
    meeting_get_for_user,
    meeting_invitations,
    meeting_list_for_user,
    minutes_versions,
    plan_item_actions,
    plan_item_get_for_user,
    plan_item_overdue,
    plan_item_roles,
    plan_items_for_case,
    plan_items_for_user,
    plan_items_visible,
)

TAGS = ["case meetings"]


class MeetingAwaitingCaseSerializer(serializers.Serializer):
    case_id = serializers.IntegerField(source="case.pk")
    number = serializers.CharField(source="case.number")
    lead_agency = CaseAgencyRefSerializer(source="case.lead_agency")
    reasons = serializers.ListField(child=serializers.ChoiceField(choices=EligibilityReason.ALL))
    level = serializers.CharField()
    last_meeting_on = serializers.DateField(allow_null=True)


class CaseMeetingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    coordinator_agency = CaseAgencyRefSerializer()
    scheduled_for = DateTimeField()
    mode = serializers.ChoiceField(choices=MeetingMode.choices)
    place = serializers.CharField()
    chair = CaseUserRefSerializer()
    status = serializers.ChoiceField(choices=MeetingStatus.choices)
    held_on = serializers.DateField(allow_null=True)


class InvitationSerializer(serializers.Serializer):
    agency = CaseAgencyRefSerializer()
    attended = serializers.BooleanField(allow_null=True)


class AgendaCaseSerializer(serializers.Serializer):
    meeting_case_id = serializers.IntegerField(source="pk")
    case_id = serializers.IntegerField()
    number = serializers.CharField(source="case.number")
    reasons = serializers.SerializerMethodField()
    categories = serializers.SerializerMethodField(help_text="The categories of this case you may see here.")

    def get_reasons(self, row) -> list[str]:
        return [r for r in row.reasons.split(",") if r]

    def get_categories(self, row) -> list[str]:
        return sorted(self.context["access"].visible.get(row.case_id, ()))


class MeetingContributionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    agency = CaseAgencyRefSerializer()
    author = CaseUserRefSerializer()
    category = serializers.ChoiceField(choices=ACTION_CATEGORY_CHOICES)
    text = serializers.CharField()
    created_at = DateTimeField()


class MeetingDecisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    text = serializers.CharField()


class MeetingMinutesSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=MinutesStatus.choices)
    correction_reason = serializers.SerializerMethodField(
        help_text="Why this version corrects the one before: empty on version 1, and for anyone who does not run "
        "the meeting (the chair, the coordinating agency's supervisors), since it may name any agenda case's "
        "survivor.")
    signed_by = CaseUserRefSerializer(allow_null=True)
    signed_at = DateTimeField(allow_null=True)

    def get_correction_reason(self, minutes) -> str:
        return minutes.correction_reason if self.context["access"].reads_reasons else ""


class ActionPlanItemSerializer(CaseRecordSerializer):
    action = serializers.CharField()
    owner_agency = CaseAgencyRefSerializer()
    owner_user = CaseUserRefSerializer(allow_null=True)
    due_at = DateTimeField()
    status = serializers.ChoiceField(choices=PlanItemStatus.choices)
    overdue = serializers.SerializerMethodField()
    finished_at = DateTimeField(allow_null=True)
    allowed_actions = serializers.SerializerMethodField(
        help_text="What you may do with the item now (conferences.models.PLAN_ITEM_MACHINE): `done` (its owner "
        "agency or the coordinator), `cancelled` (the coordinator); none once it is finished.")

    def get_overdue(self, item) -> bool:
        return plan_item_overdue(item)

    def get_allowed_actions(self, item) -> list[str]:
        # The user's roles are read once for all the items shown (the context is the answer's).
        if "plan_item_roles" not in self.context:
            self.context["plan_item_roles"] = plan_item_roles(user=self.context["user"])
        return plan_item_actions(user=self.context["user"], item=item, roles=self.context["plan_item_roles"])


class CaseMeetingDetailSerializer(CaseMeetingSerializer):
    invitations = InvitationSerializer(many=True)
    agenda = AgendaCaseSerializer(many=True)
    contributions = MeetingContributionSerializer(many=True)
    minutes = MeetingMinutesSerializer(many=True)
    decisions = MeetingDecisionSerializer(many=True, help_text="Of the latest version of the minutes.")
    plan_items = ActionPlanItemSerializer(many=True)
    may_run = serializers.BooleanField()
    is_chair = serializers.BooleanField()
    allowed_actions = serializers.ListField(
        child=serializers.ChoiceField(choices=tuple(dict.fromkeys(MEETING_MACHINE.actions + MINUTES_MACHINE.actions))),
        help_text="What you may do with the meeting now (its state, its minutes' and your part in it), as the meeting "
        "page offers it: conferences.models.MEETING_MACHINE and MINUTES_MACHINE.")


def meeting_detail_data(access: MeetingAccess) -> dict:
    versions = minutes_versions(meeting=access.meeting)
    meeting = access.meeting
    return {
        **{name: getattr(meeting, name) for name in ("id", "coordinator_agency", "scheduled_for", "mode", "place",
                                                     "chair", "status", "held_on")},
        "invitations": meeting_invitations(meeting=meeting),
        "agenda": meeting_agenda_visible(access=access),
        "contributions": contributions_visible(access=access),
        "minutes": versions,
        "decisions": decisions_visible(access=access, minutes=versions[-1] if versions else None),
        "plan_items": plan_items_visible(access=access),
        "may_run": access.may_run, "is_chair": access.is_chair,
        "allowed_actions": meeting_actions(access=access, latest=versions[-1] if versions else None),
    }


def _detail(access: MeetingAccess, request, code=status.HTTP_200_OK) -> Response:
    access = meeting_get_for_user(user=request.user, meeting_id=access.meeting.pk)
    data = meeting_detail_data(access)
    return Response(CaseMeetingDetailSerializer(data, context={"access": access, "user": request.user}).data,
                    status=code)


class AwaitingApi(ApiView):
    @extend_schema(operation_id="meetings_awaiting", summary="High-risk and eligible cases awaiting a meeting",
                   description="The coordinator's list: of the cases you may see, those eligible for a case meeting "
                   "(risk's rules, with the reasons) that are on no scheduled meeting. Supervisors only.",
                   responses=responses(200, MeetingAwaitingCaseSerializer(many=True), 403), tags=TAGS)
    def get(self, request):
        if coordinator_agency_for(request.user) is None:
            raise PermissionDenied
        return Response(MeetingAwaitingCaseSerializer(cases_awaiting_meeting(user=request.user), many=True).data)


class MeetingCollectionApi(ApiView):
    InputSerializer = inputs.MeetingScheduleInputSerializer

    @extend_schema(operation_id="meetings_list", summary="Meetings of your agencies",
                   description="Those your agencies coordinate or are invited to, newest first.",
                   responses=responses(200, CaseMeetingSerializer(many=True), 403), tags=TAGS)
    def get(self, request):
        return Response(CaseMeetingSerializer(meeting_list_for_user(user=request.user)[:200], many=True).data)

    @extend_schema(operation_id="meetings_schedule", summary="Schedule a case meeting",
                   description="A supervisor of the agency you act for schedules it; that agency coordinates it "
                   "and is invited. The chair is one of its members.",
                   request=InputSerializer, responses=responses(201, CaseMeetingSerializer, 400, 403), tags=TAGS)
    def post(self, request):
        agency = coordinator_agency_for(request.user)
        if agency is None:
            raise PermissionDenied
        payload = self.InputSerializer(data=request.data, context={"agency": agency})
        payload.is_valid(raise_exception=True)
        meeting = services.meeting_schedule(actor=request.user, **payload.validated_data)
        return Response(CaseMeetingSerializer(meeting).data, status=status.HTTP_201_CREATED)


class MeetingItemApi(ApiView):
    @extend_schema(operation_id="meetings_read", summary="One meeting, as your agencies may see it",
                   description="The agenda's cases you may see, with the categories you may see of each; their "
                   "contributions in those categories; the minutes' versions and the latest one's decisions; the "
                   "plan. 404 for an agency not invited. Audited.",
                   responses=responses(200, CaseMeetingDetailSerializer, 404), tags=TAGS)
    def get(self, request, meeting_id: int):
        access = services.meeting_view(user=request.user, meeting_id=meeting_id)
        return Response(CaseMeetingDetailSerializer(meeting_detail_data(access),
                                                    context={"access": access, "user": request.user}).data)


class MeetingWriteApi(OncePerKeyApi):
    """A POST on one meeting (the toolkit's ActionApi): the meeting as the user may see it (404 for an agency
    not invited), 403 unless they run it (the chair or the coordinator) where `runners_only`, the body by
    the operation's InputSerializer, its `service`, then the meeting as it is now; once per Idempotency-Key
    (a request sent again with it is answered with the meeting as it is then)."""

    OutputSerializer = CaseMeetingDetailSerializer
    success_status = status.HTTP_201_CREATED
    runners_only = True
    service: Callable[..., object]

    def access(self, *, meeting_id: int) -> MeetingAccess:
        access = meeting_get_for_user(user=self.request.user, meeting_id=meeting_id)
        if self.runners_only and not access.may_run:
            raise PermissionDenied
        return access

    def act(self, access: MeetingAccess, data: dict, **ids) -> CaseMeeting:
        self.service(access=access, actor=self.request.user, **data)
        return access.meeting

    def respond(self, access: MeetingAccess, result) -> Response:
        return _detail(access, self.request, self.success_status)


@action_schema("meetings_agenda_add", "Put a case on the agenda", "Coordinator only; a case your agency sees.",
               400, 403, 404, 409, tags=TAGS)
class MeetingAgendaApi(MeetingWriteApi):
    InputSerializer = inputs.MeetingCaseAddInputSerializer
    service = staticmethod(services.meeting_case_add)


@action_schema("meetings_invite", "Invite an agency", "Coordinator only: an agency an agenda case you see was "
               "handed to, or that a consent in force covers (see the invitable list). Its staff are told.", 400, 403,
               404, 409, tags=TAGS)
class MeetingInviteApi(MeetingWriteApi):
    InputSerializer = inputs.MeetingInviteInputSerializer
    service = staticmethod(services.meeting_invite)


@action_schema("meetings_cancel", "Cancel the meeting", "Coordinator only.", 400, 403, 404, 409, tags=TAGS)
class MeetingCancelApi(MeetingWriteApi):
    InputSerializer = inputs.MeetingCancelInputSerializer
    service = staticmethod(services.meeting_cancel)
    success_status = status.HTTP_200_OK


@action_schema("meetings_attendance", "Record who attended", "The chair or the coordinator.", 400, 403, 404, 409,
               tags=TAGS)
class MeetingAttendanceApi(MeetingWriteApi):
    InputSerializer = inputs.AttendanceInputSerializer
    service = staticmethod(services.attendance_record)
    success_status = status.HTTP_200_OK


@action_schema("meetings_contribute", "Add what your agency knows of an agenda case",
               "In one category your agency may see of the case; the chair may type it for an invited agency, in a "
               "category both may see.", 400, 403, 404, 409, tags=TAGS)
class MeetingContributeApi(MeetingWriteApi):
    InputSerializer = inputs.ContributionInputSerializer
    service = staticmethod(services.contribution_add)
    runners_only = False  # every agency taking part contributes


@action_schema("meetings_hold", "Record the meeting as held",
               "The chair or the coordinator; starts the draft minutes.", 400, 403, 404, 409, tags=TAGS)
class MeetingHoldApi(MeetingWriteApi):
    InputSerializer = inputs.MeetingHoldInputSerializer
    service = staticmethod(services.meeting_hold)
    success_status = status.HTTP_200_OK


@action_schema("meetings_decide", "Record the decisions about an agenda case", "In the draft minutes.",
               400, 403, 404, 409, tags=TAGS)
class MeetingDecisionApi(MeetingWriteApi):
    InputSerializer = inputs.DecisionInputSerializer
    service = staticmethod(services.decision_record)
    success_status = status.HTTP_200_OK


@action_schema("meetings_sign", "Sign the minutes", "The chair only; signed minutes never change (409 when there "
               "is no draft).", 400, 403, 404, 409, tags=TAGS)
class MeetingSignApi(MeetingWriteApi):
    InputSerializer = inputs.MinutesSignInputSerializer
    service = staticmethod(services.minutes_sign)
    success_status = status.HTTP_200_OK


@action_schema("meetings_correct", "Correct signed minutes", "A new draft version with the reason (409 while the "
               "latest version is a draft).", 400, 403, 404, 409, tags=TAGS)
class MeetingCorrectApi(MeetingWriteApi):
    InputSerializer = inputs.MinutesCorrectInputSerializer
    service = staticmethod(services.minutes_correct)


@action_schema("meetings_plan_add", "Add an action plan item",
               "Its deadline reminds the owner and escalates to the coordinating agency.", 400, 403, 404, 409,
               tags=TAGS)
class MeetingPlanItemApi(MeetingWriteApi):
    InputSerializer = inputs.PlanItemInputSerializer
    service = staticmethod(services.plan_item_add)


class MeetingInvitableAgencySerializer(serializers.Serializer):
    agency = CaseAgencyRefSerializer()
    why = serializers.ListField(child=serializers.ChoiceField(choices=["handoff", "consent"]))
    categories = serializers.SerializerMethodField(help_text="Case id: the categories this agency may see of it.")

    def get_categories(self, row) -> dict[str, list[str]]:
        return {str(case_id): sorted(cats) for case_id, cats in row.categories.items()}


class MeetingInvitableApi(ApiView):
    @extend_schema(operation_id="meetings_invitable", summary="Agencies that may be invited, with what each may see",
                   description="Coordinator only. Of the agenda cases you see now: a case your agency lost names "
                   "no agency.",
                   responses=responses(200, MeetingInvitableAgencySerializer(many=True), 403, 404), tags=TAGS)
    def get(self, request, meeting_id: int):
        access = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
        if not access.is_coordinator:
            raise PermissionDenied
        return Response(MeetingInvitableAgencySerializer(agencies_invitable(access=access), many=True).data)


class MyPlanItemsApi(ApiView):
    @extend_schema(operation_id="plan_items_mine", summary="Open action plan items of your agencies",
                   responses=responses(200, ActionPlanItemSerializer(many=True), 403), tags=TAGS)
    def get(self, request):
        return Response(ActionPlanItemSerializer(plan_items_for_user(user=request.user)[:200], many=True,
                                                 context={"user": request.user}).data)


class PlanItemFinishApi(ApiView):
    InputSerializer = inputs.PlanItemFinishInputSerializer

    @extend_schema(operation_id="plan_items_finish", summary="Mark a plan item done (or cancel it)",
                   description="Done by the owner agency, cancelled by the coordinator; closes its deadline.",
                   request=InputSerializer, responses=responses(200, ActionPlanItemSerializer, 400, 403, 404, 409),
                   tags=TAGS)
    def post(self, request, item_id: int):
        plan_item_get_for_user(user=request.user, item_id=item_id)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        item = services.plan_item_finish(actor=request.user, item_id=item_id, **payload.validated_data)
        return Response(ActionPlanItemSerializer(item, context={"user": request.user}).data)


@list_schema("plan_items_of_case", "A case's action plan",
             "Every agency on the case sees its plan: what, who, by when, and what is overdue. Audited as a view "
             "of the case.", 403, 404, tags=TAGS)
class CasePlanApi(CaseRecordListApi):
    ItemSerializer = ActionPlanItemSerializer

    def items(self, access):
        return plan_items_for_case(case_id=access.case.pk)
