"""Audit (withdrawn consent): the supervisor's dashboard counts the overdue action plan items of a case the
agency no longer sees (W8). The finding's test fails on the code it was written against.

Synthetic data only.
"""

import datetime

import pytest
import time_machine
from django.utils import timezone

from conferences.services import plan_item_add, plan_item_finish
from tests.cases.conftest import shared_case, time_limits  # noqa: F401 (fixtures)
from tests.conferences.conftest import access_of, meeting_build
from tests.support.withdraw import hospital_consent_withdrawn

pytestmark = pytest.mark.django_db


def test_dashboard_does_not_count_plan_items_of_a_case_the_agency_lost(world, shared_case, api):  # noqa: F811
    """W8: the hospital owns a plan item of the police's meeting; the survivor withdraws its consent (it can no
    longer open the item: plan_item_get_for_user refuses it). Its supervisor's dashboard still counts the item
    among the hospital's overdue plan items, and the count falls when the police cancel it: the state of a
    lost case's plan, read by the agency that lost it."""
    met = meeting_build(world, shared_case.case)
    due = timezone.now() + datetime.timedelta(hours=2)
    item = plan_item_add(access=access_of(world.lead_supervisor, met.meeting), actor=world.lead_supervisor,
                         meeting_case_id=met.row.pk, action="PLAN-ACTION: khám lại vết thương",
                         owner_agency_id=world.health.pk, owner_user=None, due_at=due)
    hospital_consent_withdrawn(world, met.case)

    def overdue_of_health() -> int:
        response = api(world.receiving_supervisor).get("/api/supervision/dashboard/")
        assert response.status_code == 200, response.content
        return sum(row["overdue"] for row in response.json()["plan_items_overdue"])

    with time_machine.travel(due + datetime.timedelta(hours=1), tick=False):
        counted = overdue_of_health()
        plan_item_finish(actor=world.lead_supervisor, item_id=item.pk, status="cancelled")
        assert overdue_of_health() == counted, "the hospital learns the plan of a case it lost has changed"
        assert counted == 0
