"""Input of the privacy operations, one declaration for the API (privacy.apis) and the pages
(privacy.forms validate with it too, config.api.input_validate). What depends on the request or the
case (who may ask for an adult, what a grant must say) is the services' to check."""

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from config.api import DateTimeField, StrictInputSerializer

from .models import RefusalGround, Requester, RequestKind
from .services import DECISIONS, RECEIVED_BACK_MAX, TEXT_MAX

# The largest id a bigint key holds: a larger number is refused here, as a field error.
ROW_ID_MAX = 2**63 - 1
CONSENTS_CHOSEN_MAX = 100


class RequestRecordInputSerializer(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    requester = serializers.ChoiceField(choices=Requester.choices)
    details = serializers.CharField(max_length=TEXT_MAX, required=False, allow_blank=True, default="")
    received_at = DateTimeField(required=False, allow_null=True, help_text="Default now; at most 15 days back.")

    class Meta:
        ref_name = "DataSubjectRequestInput"

    def validate_received_at(self, value):
        now = timezone.now()
        if value is not None and value > now:
            raise serializers.ValidationError(_("The time cannot be in the future."))
        if value is not None and value < now - RECEIVED_BACK_MAX:
            raise serializers.ValidationError(_("A request received more than 15 days ago is already late; "
                                                "record it with today's date and say so in the details."))
        return value


class RequestDecisionInputSerializer(StrictInputSerializer):
    decision = serializers.ChoiceField(choices=[(d, d) for d in DECISIONS])
    refusal_ground = serializers.ChoiceField(choices=RefusalGround.choices, required=False, allow_blank=True,
                                             default="")
    outcome = serializers.CharField(max_length=TEXT_MAX, required=False, allow_blank=True, default="",
                                    help_text="What was done, or why it is refused (what she is told). "
                                              "Not given when granting an erasure or a withdrawal of consent "
                                              "(400 if it is): a fixed sentence is recorded, so that no typed "
                                              "text outlives it.")
    consent_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ROW_ID_MAX), required=False, default=list,
        max_length=CONSENTS_CHOSEN_MAX,
        help_text="Only when granting a withdrawal of consent: the ids of the case's consents in force that she "
                  "withdraws (at least one while any consent that shares something is in force; none when none "
                  "is). They are withdrawn at once, as on the case page. Other decisions: 400 if given.")

    class Meta:
        ref_name = "DataSubjectRequestDecisionInput"

    def validate(self, attrs):
        errors: dict[str, list[str]] = {}
        if attrs["decision"] == "refuse":
            if not attrs["refusal_ground"]:
                errors["refusal_ground"] = [_("This field is required.")]
            if not attrs["outcome"]:
                errors["outcome"] = [_("Say why, in words the survivor will be told.")]
        elif attrs["refusal_ground"]:
            errors["refusal_ground"] = [_("Give a ground only when refusing.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ReasonInputSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=TEXT_MAX)

    class Meta:
        ref_name = "LegalHoldReasonInput"
