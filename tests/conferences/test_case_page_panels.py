"""The case page's panels of the apps built on the case (risk assessments, the action plan, takedowns):
on PostgreSQL the page's incidents statement asks whether the case has any row of each
(cases.selectors.case_page_probe_register), and a panel with none reads nothing. What the page shows
must not change: the same panels, with the rows the viewer may see, once the case has them."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.selectors import CaseAccess, case_get_for_user, case_page_has_none, case_prefetch_for_page
from conferences.models import PLAN_PANEL
from conferences.services import plan_item_add
from risk.models import RISK_PANEL
from takedowns.models import TAKEDOWN_PANEL
from tests.risk.conftest import answers_with, assess
from tests.takedowns.test_takedowns import record

from .conftest import access_of

pytestmark = pytest.mark.django_db
POSTGRESQL = connection.vendor == "postgresql"


def _page(client, case) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    statements = [q["sql"] for q in queries.captured_queries
                  if not re.match(r"(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT|BEGIN|COMMIT)", q["sql"])]
    return len(statements), response.content.decode()


def test_the_panels_read_only_when_the_case_has_rows_of_theirs(world, met, client):
    case = met.case
    client.force_login(world.lead_responder)
    client.get("/cases/")  # a session's first request reads the person apart
    before, html = _page(client, case)
    assert 'data-testid="risk-none"' in html and 'data-testid="plan-row"' not in html
    assert 'data-testid="takedown-' not in html

    assessment = assess(world, case, answers=answers_with(3))
    takedown = record(world, case)
    chair = access_of(world.lead_supervisor, met.meeting)
    plan_item_add(access=chair, actor=world.lead_supervisor, meeting_case_id=met.row.pk, action="Gọi lại.",
                  owner_agency_id=world.health.pk, owner_user=None, due_at=timezone.now() + datetime.timedelta(days=1))
    after, html = _page(client, case)
    assert 'data-testid="risk-latest"' in html and 'data-testid="risk-none"' not in html
    assert html.count('data-testid="plan-row"') == 1 and "Gọi lại." in html
    assert f'data-testid="takedown-{takedown.pk}"' in html
    assert assessment.pk
    # Each panel reads its rows with a statement of its own once there are some; before, none did. The plan
    # item's deadline is an open deadline of the case, which the page then reads too (deadlines.selectors).
    assert after == (before + 4 if POSTGRESQL else before)


def test_a_probe_is_not_a_permission(world, shared_case, client):
    """A takedown whose category the viewer does not read makes its panel read, which still shows
    the viewer nothing of it (the probe only says that rows exist)."""
    case = shared_case.case
    takedown = record(world, case)  # police_legal: the health agency does not read it
    client.force_login(world.receiving_responder)
    _count, html = _page(client, case)
    assert f'data-testid="takedown-{takedown.pk}"' not in html
    client.force_login(world.lead_responder)
    _count, html = _page(client, case)
    assert f'data-testid="takedown-{takedown.pk}"' in html


def test_none_is_known_only_where_the_page_asked(world, shared_case):
    case = shared_case.case
    access: CaseAccess = case_get_for_user(user=world.lead_responder, case_id=case.pk)
    assert not any(case_page_has_none(access, name) for name in (RISK_PANEL, PLAN_PANEL, TAKEDOWN_PANEL))
    case_prefetch_for_page(access)
    assert [i.pk for i in case.incidents.all()] == list(
        case.incidents.order_by("occurred_on", "id").values_list("pk", flat=True))
    found = {name: case_page_has_none(access, name) for name in (RISK_PANEL, PLAN_PANEL, TAKEDOWN_PANEL)}
    assert found == {name: POSTGRESQL for name in found}
    record(world, case)
    fresh = case_get_for_user(user=world.lead_responder, case_id=case.pk)
    case_prefetch_for_page(fresh)
    assert not case_page_has_none(fresh, TAKEDOWN_PANEL)
    assert case_page_has_none(fresh, RISK_PANEL) == POSTGRESQL
