"""The handoff API: one APIView per operation, plain serializers, the case API's error shape.

Access comes first, input second: anyone outside the two agencies gets 404 (a handoff they may
not see looks like a missing one), the other side 403, and only then is the body checked (400
with messages by field). Writes go through handoffs.services.
"""

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from agencies.models import Agency
from cases.apis import once_per_key
from cases.selectors import case_get_for_user
from cases.serializers import TEXT_LIMITS, CaseAgencyRefSerializer, CaseUserRefSerializer, chosen, in_vocabulary_order
from config.api import (
    ActionApi,
    ApiView,
    BooleanField,
    CursorPage,
    StrictInputSerializer,
    TextField,
    action_schema,
    read_schema,
    responses,
)
from handoffs.models import Handoff, HandoffKind, HandoffService, HandoffStatus, Urgency
from permissions.categories import CaseRight, DataCategory

from . import services
from .selectors import (
    HandoffAccess,
    handoff_actions_for,
    handoff_get_for_user,
    handoff_is_overdue,
    handoff_list_for_user,
    handoff_timeline,
    handoff_user_may_handle,
)
from .services import MESSAGE_LIMIT, REASON_LIMIT

# Primary keys beyond this are refused as input rather than sent to the database.
MAX_ID = 2**31 - 1

# --- Output --------------------------------------------------------------------------------------


class HandoffCaseRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class HandoffSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = HandoffCaseRefSerializer()
    kind = serializers.ChoiceField(choices=HandoffKind.choices)
    status = serializers.ChoiceField(choices=HandoffStatus.choices)
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    from_agency = CaseAgencyRefSerializer()
    to_agency = CaseAgencyRefSerializer()
    sent_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(help_text="When the receiving agency must answer by.")
    overdue = serializers.SerializerMethodField(help_text="Still unanswered after its due time.")

    def get_overdue(self, handoff) -> bool:
        return handoff_is_overdue(handoff, now=self.context.get("now"))


class HandoffTimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    type = serializers.CharField()
    agency = serializers.CharField()
    actor = serializers.CharField()
    sentence = serializers.CharField()
    details = serializers.CharField(allow_blank=True, help_text="A reason or an outcome, in the author's words.")


class HandoffDetailSerializer(HandoffSummarySerializer):
    services = serializers.ListField(child=serializers.ChoiceField(choices=HandoffService.choices))
    categories = serializers.ListField(child=serializers.ChoiceField(choices=DataCategory.choices),
                                       help_text="Shared on acceptance, within the consent in force.")
    message = serializers.SerializerMethodField(help_text="Empty for the receiver unless the handoff lets it see "
                                                "the case: waiting, while accepting would open the case to it; "
                                                "accepted, while its agency sees the case (not after the consent "
                                                "is withdrawn); never once declined, withdrawn or completed.")
    emergency_override = serializers.BooleanField()
    override_reason = serializers.SerializerMethodField(help_text="The emergency override's written reason: as "
                                                        "`message`, empty for the receiver unless the handoff lets "
                                                        "it see the case.")
    forwarded_from = serializers.IntegerField(source="forwarded_from_id", allow_null=True,
                                              help_text="The declined handoff this one sends on.")
    sent_by = CaseUserRefSerializer()
    viewed_at = serializers.DateTimeField(allow_null=True, help_text="The receiving agency's first look.")
    responded_at = serializers.DateTimeField(allow_null=True)
    decline_reason = serializers.CharField(allow_blank=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField(allow_blank=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    withdraw_reason = serializers.CharField(allow_blank=True)
    side = serializers.SerializerMethodField(help_text="Your side of it: sender or receiver.")
    actions = serializers.SerializerMethodField(help_text="What your side may do now.")
    timeline = serializers.SerializerMethodField()

    def _access(self) -> HandoffAccess:
        return self.context["access"]

    def get_message(self, handoff) -> str:
        return self._access().message

    def get_override_reason(self, handoff) -> str:
        return self._access().override_reason

    def get_side(self, handoff) -> str:
        return self._access().side

    def get_actions(self, handoff) -> list[str]:
        return sorted(handoff_actions_for(access=self._access()))

    def get_timeline(self, handoff) -> list[dict]:
        return HandoffTimelineEntrySerializer(handoff_timeline(access=self._access()), many=True).data


def _detail(access: HandoffAccess, *, code: int = status.HTTP_200_OK) -> Response:
    return Response(HandoffDetailSerializer(access.handoff, context={"access": access}).data, status=code)


# --- Lists ---------------------------------------------------------------------------------------


@read_schema(
    "handoffs_list", "Handoffs to or from your agencies",
    "Newest first, cursor-paginated. Only responders and supervisors have handoffs; others get 403.",
    tags=["handoffs"],
)
class HandoffListApi(ApiView):
    OutputSerializer = HandoffSummarySerializer
    pagination_class = CursorPage
    ordering = ("-sent_at", "-id")

    class FilterSerializer(serializers.Serializer):
        direction = serializers.ChoiceField(choices=[("incoming", "incoming"), ("outgoing", "outgoing")],
                                            required=False, default="incoming",
                                            help_text="To your agencies (incoming) or from them (outgoing).")
        status = serializers.ChoiceField(choices=HandoffStatus.choices, required=False)

    def get(self, request):
        if not handoff_user_may_handle(user=request.user):
            raise PermissionDenied
        filters = self.validated_query(self.FilterSerializer)
        handoffs = handoff_list_for_user(user=request.user, direction=filters["direction"],
                                         status=filters.get("status"))
        page = self.paginate(handoffs)
        return self.page_response(self.OutputSerializer(page, many=True, context={"now": timezone.now()}).data)


# --- Send ----------------------------------------------------------------------------------------


class HandoffSendApi(ApiView):
    idempotency_key = True

    class InputSerializer(StrictInputSerializer):
        kind = serializers.ChoiceField(choices=HandoffKind.choices)
        to_agency = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="Agency id.")
        services = serializers.ListField(child=serializers.ChoiceField(choices=HandoffService.choices),
                                         max_length=len(HandoffService.values))
        urgency = serializers.ChoiceField(choices=Urgency.choices)
        categories = serializers.ListField(
            child=serializers.ChoiceField(choices=DataCategory.choices), required=False, max_length=len(DataCategory),
            help_text="Within the consent in force for the agency, unless emergency_override.",
        )
        message = TextField(max_length=MESSAGE_LIMIT, allow_blank=True, required=False, default="")
        emergency_override = BooleanField(required=False, default=False)
        override_reason = TextField(max_length=TEXT_LIMITS["override_reason"], allow_blank=True, required=False,
                                    default="")
        forwarded_from = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True,
                                                  help_text="A declined handoff of this case that this one sends on.")

        def validate_to_agency(self, value):
            return chosen(Agency.objects.filter(active=True), value)

        def validate_services(self, value):
            if not value:
                raise serializers.ValidationError(_("Choose at least one service."))
            return in_vocabulary_order(value, HandoffService.values)

        def validate_categories(self, value):
            return in_vocabulary_order(value, DataCategory.values)

        def validate(self, attrs):
            if attrs["emergency_override"] and not attrs["override_reason"]:
                raise serializers.ValidationError({"override_reason": [_("This field is required.")]})
            attrs.setdefault("categories", [])
            return attrs

    @extend_schema(
        operation_id="handoffs_send",
        summary="Refer or transfer a case to another agency",
        description="Needs manage_sharing (the lead agency). Sets the response deadline by urgency and tells "
        "the receiving agency. Nothing is shared until it accepts. Categories beyond the consent in force need an "
        "emergency override with a reason; refused categories are never shared.",
        request=InputSerializer,
        responses=responses(201, HandoffDetailSerializer, 400, 403, 404, 409),
        tags=["handoffs"],
    )
    def post(self, request, case_id: int):
        access = case_get_for_user(user=request.user, case_id=case_id, require=CaseRight.MANAGE_SHARING)
        payload = self.validated_input(HandoffSendApi.InputSerializer)
        # The sender's side of the handoff the service just saved: the service sent it for the agency the
        # person acts for, so no second read of it (issue 15). Once per Idempotency-Key.
        return once_per_key(request, lambda: services.handoff_send(access=access, actor=request.user, data=payload),
                            lambda handoff: _detail(HandoffAccess(handoff, "sender", access.agency, True),
                                                    code=status.HTTP_201_CREATED))


# --- One handoff ---------------------------------------------------------------------------------


class HandoffDetailApi(ApiView):
    @extend_schema(
        operation_id="handoffs_retrieve",
        summary="One handoff, with its timeline",
        description="For members of the sending or the receiving agency (404 for anyone else). The receiving "
        "agency's first read is recorded as its first look; every read is audited.",
        responses=responses(200, HandoffDetailSerializer, 403, 404),
        tags=["handoffs"],
    )
    def get(self, request, handoff_id: int):
        return _detail(services.handoff_view(user=request.user, handoff_id=handoff_id))


class _HandoffActionApi(ActionApi):
    """An answer to a handoff by one side of it: the other side gets 403 (anyone else 404, as for a
    handoff they may not see), before the body is checked; the handoff is read back after."""

    side = "receiver"
    InputSerializer: type[StrictInputSerializer]
    OutputSerializer = HandoffDetailSerializer

    def access(self, *, handoff_id: int) -> HandoffAccess:
        access = handoff_get_for_user(user=self.request.user, handoff_id=handoff_id)
        if access.side != self.side:
            raise PermissionDenied
        return access

    def respond(self, access: HandoffAccess, result: Handoff) -> Response:
        # The answer shows the handoff the service just saved, from the same side: answering changes
        # neither the person's agencies nor their side (no second read of the handoff, issue 15).
        return _detail(HandoffAccess(result, access.side, access.agency, access.acting))


def _handoff_action(operation_id: str, summary: str, description: str):
    """The schema of a _HandoffActionApi: its input, and the handoff as it is after, or the errors."""
    return action_schema(operation_id, summary, description, 400, 403, 404, 409, tags=["handoffs"])


class HandoffReasonInputSerializer(StrictInputSerializer):
    reason = TextField(max_length=REASON_LIMIT)


@_handoff_action(
    "handoffs_accept", "Accept a handoff",
    "The receiving agency. Shares exactly the consented categories asked for; a transfer makes your agency the "
    "lead and you responsible. Closes the response deadline and tells the sender.",
)
class HandoffAcceptApi(_HandoffActionApi):
    class InputSerializer(StrictInputSerializer):
        pass

    def post(self, request, *, handoff_id: int):
        # One locked read of the handoff serves the access check, the body's check and the service
        # (issue 15): the service calls `checked` on the access it locked, in ActionApi's order (404,
        # 403, 400, then 409).
        seen: dict = {}

        def checked(access: HandoffAccess) -> None:
            seen["access"] = access
            self.validated_input(self.InputSerializer, **self.input_context(access))

        result = services.handoff_accept(user=request.user, handoff_id=handoff_id, checked=checked)
        return self.respond(seen["access"], result)


@_handoff_action(
    "handoffs_decline", "Decline a handoff",
    "The receiving agency, with a reason. Shares nothing; the sender may send the case on.",
)
class HandoffDeclineApi(_HandoffActionApi):
    InputSerializer = HandoffReasonInputSerializer

    def act(self, access: HandoffAccess, data: dict, *, handoff_id: int) -> Handoff:
        return services.handoff_decline(user=self.request.user, handoff_id=handoff_id, reason=data["reason"])


@_handoff_action(
    "handoffs_withdraw", "Withdraw a handoff",
    "The sending agency, with a reason: a referral while sent or accepted (its access ends), a transfer only "
    "before it is accepted.",
)
class HandoffWithdrawApi(_HandoffActionApi):
    side = "sender"
    InputSerializer = HandoffReasonInputSerializer

    def act(self, access: HandoffAccess, data: dict, *, handoff_id: int) -> Handoff:
        return services.handoff_withdraw(user=self.request.user, handoff_id=handoff_id, reason=data["reason"])


@_handoff_action(
    "handoffs_complete", "Complete an accepted referral",
    "The receiving agency records what it did; its access is reduced to the case facts.",
)
class HandoffCompleteApi(_HandoffActionApi):
    class InputSerializer(StrictInputSerializer):
        outcome = TextField(max_length=MESSAGE_LIMIT)

    def act(self, access: HandoffAccess, data: dict, *, handoff_id: int) -> Handoff:
        return services.handoff_complete(user=self.request.user, handoff_id=handoff_id, outcome=data["outcome"])
