"""seed_demo adds a few risk assessments through the service, one of them high, once."""

import io

import pytest
from django.core.management import call_command

from cases.models import CaseEvent
from risk.models import RiskAssessment
from risk.selectors import cases_eligible_for_meeting

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_assessments_one_high_and_only_once(seed_demo_small):
    call_command("seed_demo", stdout=io.StringIO())
    rows = list(RiskAssessment.objects.order_by("id"))
    assert len(rows) == 4 and all(row.status == "completed" for row in rows)
    assert [row.level for row in rows] == ["high", "medium", "low", "low"]
    assert all(row.case.risk_level == row.level for row in rows)
    assert CaseEvent.objects.filter(type="risk_assessed").count() == 4
    from cases.models import Case

    eligible = cases_eligible_for_meeting(cases=Case.objects.all())
    assert rows[0].case_id in {row.case.pk for row in eligible}
    call_command("seed_demo", stdout=io.StringIO())
    assert RiskAssessment.objects.count() == 4
