"""seed_demo adds two meetings with plans, some items overdue, once."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from conferences.models import ActionPlanItem, CaseMeeting, MeetingMinutes

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_two_meetings_with_plans_and_overdue_items(seed_demo_small):
    call_command("seed_demo", stdout=io.StringIO())
    meetings = list(CaseMeeting.objects.order_by("scheduled_for"))
    assert [m.status for m in meetings] == ["held", "scheduled"]
    assert MeetingMinutes.objects.get(meeting=meetings[0]).status == "signed"
    items = list(ActionPlanItem.objects.all())
    assert len(items) == 3
    assert sum(1 for item in items if item.due_at < timezone.now()) == 2
    call_command("seed_demo", stdout=io.StringIO())
    assert CaseMeeting.objects.count() == 2
