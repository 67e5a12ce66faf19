"""What the supervisor of an agency that lost a case (its consent withdrawn or expired) still reads on the
supervision pages, beyond the audit's own tests (test_audit_withdraw_register.py, _dashboard.py): the register
page's idle list, a register row's handoff count while the case is seen and after, the other side's review
comments on a handoff's and a break-glass use's page, and the dashboard's plan items of a case the coordinating
agency lost. Each list asks, at its read, whether the agency sees the case (cases.selectors.case_seen_by_agency).

Synthetic data only.
"""

import datetime
import re

import pytest
import time_machine
from django.utils import timezone

from handoffs.services import handoff_accept
from tests.cases.conftest import time_limits  # noqa: F401 (fixture)
from tests.cases.services_helpers import consent_data, open_case
from tests.supervision.conftest import OVERRIDE, send, social_build
from tests.support.withdraw import hospital_consent_withdrawn

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("time_limits")]

DAY = datetime.timedelta(days=1)


def _accepted_by_health(world):
    """A police case referred to the hospital on a medical consent, accepted there."""
    case = open_case(world, consent=consent_data(world, granted_categories=["medical"]))
    handoff = send(world, case)
    handoff_accept(user=world.receiving_responder, handoff_id=handoff.pk)
    return case, handoff


def _shown(page: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">(.*?)</ul>', page, re.S)
    return found.group(1) if found else ""


def test_the_register_page_idle_list_keeps_the_case_seen_and_drops_the_case_lost(world, web):
    """W2 (the page, read by the compiled query on PostgreSQL): two quiet cases of the hospital; the survivor
    withdraws its consent on one. Three days on, its supervisor's home lists the other only."""
    kept, _handoff = _accepted_by_health(world)
    lost, _handoff = _accepted_by_health(world)
    hospital_consent_withdrawn(world, lost)
    with time_machine.travel(timezone.now() + 3 * DAY, tick=False):
        page = web(world.receiving_supervisor).get("/supervision/", {"idle_days": 1}).content.decode()
    idle = _shown(page, "idle-cases")
    assert kept.number in idle
    assert lost.number not in idle


def test_a_register_row_counts_every_agencys_handoffs_while_the_case_is_seen_then_its_own(world, api, web):
    """W1: while the hospital sees the case its row counts the case's handoffs of every agency (the police's
    referral to the social work centre too); once it lost the case, its own handoffs only, on the register, the
    handoff's API and its page (which says so)."""
    case, handoff = _accepted_by_health(world)
    social, _responder, _supervisor = social_build(world)
    send(world, case, to_agency=social, categories=["contact"], **OVERRIDE)
    client = api(world.receiving_supervisor)

    def counted() -> tuple[int, int, str]:
        rows = client.get("/api/supervision/handoffs/").json()["results"]
        (row,) = [row for row in rows if row["id"] == handoff.pk]
        detail = client.get(f"/api/supervision/handoffs/{handoff.pk}/").json()["handoff"]
        page = web(world.receiving_supervisor).get(f"/supervision/handoffs/{handoff.pk}/",
                                                   HTTP_ACCEPT_LANGUAGE="en").content.decode()
        shown = re.search(r'<dt>([^<]*)</dt><dd data-testid="case-handoffs">(\d+)</dd>', page)
        assert int(shown.group(2)) == row["case_handoffs"]
        return row["case_handoffs"], detail["case_handoffs"], shown.group(1)

    assert counted() == (2, 2, "Handoffs of this case")
    hospital_consent_withdrawn(world, case)
    assert counted() == (1, 1, "Your agency&#39;s handoffs of this case (it does not see the case now)")
    # The police, who lead the case, still count both.
    rows = api(world.lead_supervisor).get("/api/supervision/handoffs/").json()["results"]
    assert {row["case_handoffs"] for row in rows if row["case_number"] == case.number} == {2}
