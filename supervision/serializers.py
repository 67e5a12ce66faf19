"""Input of the supervisors' operations, one declaration for the API (supervision.apis) and the pages
(supervision.forms validate with it too, config.api.input_validate)."""

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from cases.serializers import in_vocabulary_order
from config.api import DateTimeField, StrictInputSerializer, TextField
from permissions.breakglass import CASE_NUMBER_MAX_LENGTH, REASON_MAX_LENGTH
from permissions.categories import DataCategory

from .models import Verdict

COMMENT_MAX_LENGTH = 2000
FOLLOW_UP_MAX = datetime.timedelta(days=366)


class ReviewInputSerializer(StrictInputSerializer):
    """A verdict on a handoff, an emergency consent override or a break-glass use."""

    verdict = serializers.ChoiceField(choices=Verdict.choices)
    comment = TextField(max_length=COMMENT_MAX_LENGTH, required=False, allow_blank=True,
                        help_text="Required with a concern.")
    follow_up_due = DateTimeField(required=False, allow_null=True, help_text="Required when a follow-up is needed.")

    def validate(self, attrs):
        verdict, due = attrs["verdict"], attrs.get("follow_up_due")
        attrs["comment"] = attrs.get("comment", "")
        if verdict == Verdict.CONCERN and not attrs["comment"]:
            raise serializers.ValidationError({"comment": [_("This field is required.")]})
        now = timezone.now()
        if verdict == Verdict.FOLLOW_UP_NEEDED and due is None:
            raise serializers.ValidationError({"follow_up_due": [_("Give the date and time the follow-up is due.")]})
        if verdict == Verdict.FOLLOW_UP_NEEDED and not now < due <= now + FOLLOW_UP_MAX:
            raise serializers.ValidationError({"follow_up_due": [
                _("The follow-up must be due in the future, within a year.")]})
        if verdict != Verdict.FOLLOW_UP_NEEDED and due is not None:
            raise serializers.ValidationError({"follow_up_due": [_("A due date goes with a follow-up only.")]})
        attrs["follow_up_due"] = due
        return attrs


class BreakGlassInputSerializer(StrictInputSerializer):
    """Opening a case that is not shared with you (cases.breakglass.break_glass_open)."""

    case_number = TextField(max_length=CASE_NUMBER_MAX_LENGTH)
    reason = TextField(max_length=REASON_MAX_LENGTH, help_text="Why the case must be opened now; reviewed by "
                       "supervisors.")
    categories = serializers.ListField(child=serializers.ChoiceField(choices=DataCategory.choices),
                                       required=False, max_length=len(DataCategory), default=list)

    class Meta:
        ref_name = "BreakGlassInput"

    def validate_reason(self, value):
        minimum = settings.BREAK_GLASS_REASON_MIN_LENGTH
        if len(value) < minimum:
            raise serializers.ValidationError(
                _("Explain why in at least %(min)d characters: supervisors review every use.") % {"min": minimum})
        return value

    def validate_categories(self, value):
        return in_vocabulary_order(value, DataCategory.values)
