"""The breach register's input, one declaration for the API (privacy.breaches.apis) and the pages
(privacy.breaches.views validate their form's values with it too, config.api.input_validate). The order
of the times against the stored breach is the service's to check."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from agencies.models import Agency
from config.api import DateTimeField, StrictInputSerializer
from permissions.categories import DataCategory

from ..models import BreachStatus

MAX_LINKED_EVENTS = 500
# A time typed on a phone whose clock runs a little ahead is not "in the future".
CLOCK_SLACK = datetime.timedelta(minutes=5)


def _not_in_future(value: datetime.datetime | None, message: str) -> datetime.datetime | None:
    if value is not None and value > timezone.now() + CLOCK_SLACK:
        raise serializers.ValidationError(message)
    return value


class BreachInputSerializer(StrictInputSerializer):
    status = serializers.ChoiceField(choices=BreachStatus.choices, required=False)
    discovered_at = DateTimeField()
    occurred_at = DateTimeField(required=False, allow_null=True)
    description = serializers.CharField(max_length=10000)
    categories = serializers.ListField(child=serializers.ChoiceField(choices=DataCategory.choices), required=False,
                                       max_length=len(DataCategory.values))
    subjects_approx = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    records_approx = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    consequences = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    measures_taken = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    measures_proposed = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    contact_point = serializers.CharField(max_length=200)
    notified_at = DateTimeField(required=False, allow_null=True)
    delay_reason = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    affected_agencies = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.filter(active=True), many=True, required=False,
    )
    access_events = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False,
                                          max_length=MAX_LINKED_EVENTS)

    def validate_categories(self, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError(_("Choose categories from the list, each once."))
        return sorted(value)

    def validate_discovered_at(self, value: datetime.datetime) -> datetime.datetime | None:
        return _not_in_future(value, _("The time of discovery cannot be in the future."))

    def validate_notified_at(self, value: datetime.datetime | None) -> datetime.datetime | None:
        return _not_in_future(value, _("The time of notification cannot be in the future."))
