"""Input of the case-meeting operations, one serializer per operation, for the API (conferences.apis)
and the pages (conferences.views validate with them too, config.api.input_validate). The services
take the checked values; who may do what, and whether an agency may see a category of a case, the
services decide."""

from django.contrib.auth.models import User
from rest_framework import serializers

from config.api import BooleanField, DateTimeField, StrictInputSerializer, TextField
from permissions.categories import ACTION_CATEGORY_CHOICES
from permissions.policy import CASE_ROLES

from .models import MeetingMode, PlanItemStatus
from .services import CANCEL_REASON_LIMIT, REASON_LIMIT, TEXT_LIMIT


class MeetingScheduleInputSerializer(StrictInputSerializer):
    """The chair is a member of the coordinator's agency (context `agency`): another id is "not found"."""

    scheduled_for = DateTimeField()
    mode = serializers.ChoiceField(choices=MeetingMode.choices, default=MeetingMode.IN_PERSON)
    place = TextField(max_length=200, allow_blank=True, default="")
    chair = serializers.PrimaryKeyRelatedField(queryset=User.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        agency = self.context.get("agency")
        self.fields["chair"].queryset = (  # type: ignore[attr-defined]
            User.objects.filter(is_active=True, memberships__agency=agency, memberships__role__in=CASE_ROLES)
            if agency is not None else User.objects.none())


class MeetingCaseAddInputSerializer(StrictInputSerializer):
    case_id = serializers.IntegerField(min_value=1)


class MeetingInviteInputSerializer(StrictInputSerializer):
    agency_id = serializers.IntegerField(min_value=1)


class MeetingCancelInputSerializer(StrictInputSerializer):
    reason = TextField(max_length=CANCEL_REASON_LIMIT)


class AttendanceInputSerializer(StrictInputSerializer):
    attended = serializers.DictField(child=BooleanField(), allow_empty=False,
                                     help_text="Invited agency id: whether it attended.")

    def validate_attended(self, value):
        try:
            return {int(key): flag for key, flag in value.items()}
        except (TypeError, ValueError):
            raise serializers.ValidationError("Give agency ids as keys.") from None


class ContributionInputSerializer(StrictInputSerializer):
    meeting_case_id = serializers.IntegerField(min_value=1)
    category = serializers.ChoiceField(choices=ACTION_CATEGORY_CHOICES)
    text = TextField(max_length=TEXT_LIMIT)
    agency_id = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None,
                                         help_text="For the chair typing for an invited agency; "
                                         "by default the agency you act for.")


class MeetingHoldInputSerializer(StrictInputSerializer):
    held_on = serializers.DateField()


class DecisionInputSerializer(StrictInputSerializer):
    meeting_case_id = serializers.IntegerField(min_value=1)
    text = TextField(max_length=TEXT_LIMIT)


class MinutesSignInputSerializer(StrictInputSerializer):
    """Nothing to give: the chair signs the draft."""


class MinutesCorrectInputSerializer(StrictInputSerializer):
    reason = TextField(max_length=REASON_LIMIT)


class PlanItemInputSerializer(StrictInputSerializer):
    meeting_case_id = serializers.IntegerField(min_value=1)
    action = TextField(max_length=TEXT_LIMIT)
    owner_agency_id = serializers.IntegerField(min_value=1)
    owner_user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False,
                                                    allow_null=True, default=None)
    due_at = DateTimeField()


class PlanItemFinishInputSerializer(StrictInputSerializer):
    status = serializers.ChoiceField(choices=[(PlanItemStatus.DONE.value, PlanItemStatus.DONE.label),
                                              (PlanItemStatus.CANCELLED.value, PlanItemStatus.CANCELLED.label)])
