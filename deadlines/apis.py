"""The case deadline API: a case's open deadlines, setting a follow-up or an action plan, marking
one done. Access as the case API: 404 for a case you do not see, 403 without the right."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from cases.apis import CaseActionApi, CaseRecordCreateApi
from cases.selectors import case_get_for_user
from cases.serializers import CaseAgencyRefSerializer, CaseUserRefSerializer
from config.api import ApiView, DateTimeField, StrictInputSerializer, action_schema, responses
from deadlines.services import MAX_AHEAD
from notifications.models import Deadline

from .selectors import CASE_DEADLINE_MACHINE, case_deadline_actions, case_deadline_list, deadline_is_overdue
from .services import RESPONDER_KINDS, case_deadline_done, case_deadline_set


class CaseDeadlineTimeLimitSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    source = serializers.CharField(help_text="The law or decree that sets the limit.")


class CaseDeadlineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Deadline.Kind.choices)
    rule = CaseDeadlineTimeLimitSerializer(allow_null=True, help_text="The legal time limit, for a legal deadline.")
    due_at = DateTimeField()
    remind_at = DateTimeField()
    stage = serializers.ChoiceField(choices=Deadline.Stage.choices)
    owner_agency = CaseAgencyRefSerializer()
    owner_user = CaseUserRefSerializer(allow_null=True)
    overdue = serializers.SerializerMethodField()
    closed_at = DateTimeField(allow_null=True)
    allowed_actions = serializers.SerializerMethodField(help_text="What you may do with it now, as the case page "
                                                        "offers it: " + ", ".join(CASE_DEADLINE_MACHINE.actions) + ".")

    def get_overdue(self, deadline) -> bool:
        return deadline_is_overdue(deadline)

    def get_allowed_actions(self, deadline) -> list[str]:
        return case_deadline_actions(access=self.context["access"], deadline=deadline)


class CaseDeadlineListApi(ApiView):
    @extend_schema(
        operation_id="cases_deadlines_list",
        summary="Open deadlines of a case",
        description="The case's legal time limits, follow-ups and action plans, and the response deadlines of the "
        "handoffs your agency sent or answers; soonest first.",
        responses=responses(200, CaseDeadlineSerializer(many=True), 403, 404),
        tags=["deadlines"],
    )
    def get(self, request, case_id: int):
        access = case_get_for_user(user=request.user, case_id=case_id)
        deadlines = case_deadline_list(access=access)
        return Response(CaseDeadlineSerializer(deadlines, many=True, context={"access": access}).data)


@action_schema(
    "cases_deadlines_set", "Set a follow-up or an action plan",
    "Needs log_action. Yours and your agency's: you are reminded before it, your supervisors are told when it "
    "passes, then the lead agency's supervisors (or the province's coordinators).",
    400, 403, 404, tags=["deadlines"],
)
class CaseDeadlineSetApi(CaseRecordCreateApi):
    OutputSerializer = CaseDeadlineSerializer
    service = staticmethod(case_deadline_set)

    class InputSerializer(StrictInputSerializer):
        kind = serializers.ChoiceField(choices=[(k.value, k.label) for k in RESPONDER_KINDS])
        due_at = DateTimeField(help_text="In the future, within a year.", error_messages={
            "required": _lazy("Give the date and time it is due."), "null": _lazy("Give the date and time it is due.")})

        class Meta:
            ref_name = "CaseDeadlineInput"

        def validate_due_at(self, value):
            now = timezone.now()
            if value <= now:
                raise serializers.ValidationError(_("The time must be in the future."))
            if value > now + MAX_AHEAD:
                raise serializers.ValidationError(_("Choose a time within the next year."))
            return value


@action_schema(
    "cases_deadlines_done", "Mark a case deadline done",
    "Its owner agency's responders and supervisors; while the owner agency cannot see the case (its consent "
    "withdrawn or expired), those of the agency it escalates to. A handoff's deadline closes with its answer "
    "instead (404 here).",
    400, 403, 404, 409, tags=["deadlines"],
)
class CaseDeadlineDoneApi(CaseActionApi):
    OutputSerializer = CaseDeadlineSerializer

    class InputSerializer(StrictInputSerializer):
        pass

    def act(self, access, data: dict, *, deadline_id: int, **ids):
        return case_deadline_done(access=access, actor=self.request.user, deadline_id=deadline_id)


class CaseDeadlineCollectionApi(CaseDeadlineListApi, CaseDeadlineSetApi):
    """GET lists a case's open deadlines, POST sets one."""
