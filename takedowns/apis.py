"""The takedown request API: list a case's requests, record one, record its outcome.

Access first, input second (as the handoff API): a case that is not shared with the caller is 404,
a missing right 403, and only then is the body checked (400 with messages by field). Writes go
through takedowns.services.
"""

from django.utils.translation import gettext as _
from rest_framework import serializers

from cases.apis import CaseActionApi, CaseRecordCreateApi, CaseRecordListApi
from cases.serializers import CaseAgencyRefSerializer, _text, not_in_future
from config.api import DateTimeField, StrictInputSerializer, TextField, action_schema, list_schema
from permissions.categories import ACTION_CATEGORY_CHOICES
from takedowns.models import TakedownOutcome, TakedownPlatform

from .selectors import takedown_actions, takedown_list_for_case
from .services import REFERENCE_LIMIT, takedown_outcome_record, takedown_request_record


class TakedownRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    action_id = serializers.IntegerField()
    agency = CaseAgencyRefSerializer(source="action.agency")
    platform = serializers.ChoiceField(choices=TakedownPlatform.choices)
    content_reference_hash = serializers.CharField(
        help_text="Keyed SHA-256 of the content reference: equal for requests about the same content."
    )
    requested_at = DateTimeField()
    outcome = serializers.ChoiceField(choices=TakedownOutcome.choices)
    resolved_at = DateTimeField(allow_null=True)
    allowed_actions = serializers.SerializerMethodField(
        help_text="The outcomes you may record now (each action is named after its outcome), as the case page "
        "offers them.")

    def get_allowed_actions(self, takedown) -> list[str]:
        return takedown_actions(access=self.context["access"], takedown=takedown)


@list_schema(
    "cases_takedowns_list", "Content takedown requests of a case",
    "Requests whose action is in a data category you may see, newest first. Audited.",
    403, 404, tags=["actions"],
)
class TakedownListApi(CaseRecordListApi):
    ItemSerializer = TakedownRequestSerializer
    selector = staticmethod(takedown_list_for_case)


@action_schema(
    "cases_takedowns_record", "Record a content takedown request",
    "Needs log_action. Logs a takedown_requested action with the request beside it (outcome pending).",
    400, 403, 404, tags=["actions"],
)
class TakedownRecordApi(CaseRecordCreateApi):
    OutputSerializer = TakedownRequestSerializer
    service = staticmethod(takedown_request_record)

    class InputSerializer(StrictInputSerializer):
        platform = serializers.ChoiceField(choices=TakedownPlatform.choices)
        content_reference = TextField(
            max_length=REFERENCE_LIMIT,
            help_text="The address of the content, the platform's ID of it, or a hash from an image-hashing "
            "tool. Only a keyed hash of it is stored. Never send the image itself.",
        )
        occurred_at = DateTimeField(required=False, help_text="When the request was made; defaults "
                                                "to now.", validators=[not_in_future])
        category = serializers.ChoiceField(choices=ACTION_CATEGORY_CHOICES, required=False,
                                           help_text="Of the action; defaults to police and legal.")
        text = _text("text")


class TakedownCollectionApi(TakedownListApi, TakedownRecordApi):
    """GET lists the case's takedown requests, POST records one."""


@action_schema(
    "cases_takedowns_outcome", "Record the outcome of a takedown request",
    "Needs log_action and the data category of the request's action. Removed, refused by the platform, no "
    "response, or back to pending.",
    400, 403, 404, 409, tags=["actions"],
)
class TakedownOutcomeApi(CaseActionApi):
    OutputSerializer = TakedownRequestSerializer

    class InputSerializer(StrictInputSerializer):
        outcome = serializers.ChoiceField(choices=TakedownOutcome.choices)
        resolved_at = DateTimeField(
            required=False, allow_null=True, help_text="When the outcome became known; defaults to now. None "
            "for pending.", validators=[not_in_future],
        )

        def validate(self, attrs):
            if attrs["outcome"] == TakedownOutcome.PENDING and attrs.get("resolved_at") is not None:
                raise serializers.ValidationError({"resolved_at": [_("A pending request has no outcome time.")]})
            return attrs

    def act(self, access, data: dict, *, takedown_id: int, **ids):
        return takedown_outcome_record(access=access, actor=self.request.user, takedown_id=takedown_id, data=data)
