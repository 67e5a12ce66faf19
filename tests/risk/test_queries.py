"""Query budgets of the risk reads: the list of a case's assessments, one assessment, the meeting-
eligible cases and the case page's risk panel cost a fixed number of queries, however many
assessments or cases there are. Measured as tests/cases/test_api_queries.py does (real transactions,
token authentication; BEGIN/COMMIT of each audited read on top)."""

import pytest

from cases.selectors import case_get_for_user
from cases.services import action_log
from tests.cases.conftest import case_build
from tests.risk.conftest import answers_with, assess
from tests.support.api_tokens import token_client
from tests.support.chain_cost import get_within_budget

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("time_limits")]

# SQLite chains the read's audit event inside the request's transaction (head + UPDATE, two statements
# that PostgreSQL leaves to a worker after the commit), hence one more than PostgreSQL needs.
LIST_BUDGET = 7
ITEM_BUDGET = 7
ELIGIBLE_BUDGET = 4


def test_assessment_list_and_item_cost_the_same_for_1_and_6_assessments(world):
    case = case_build(world)
    client = token_client(world.lead_responder)
    first = assess(world, case, answers=answers_with(3))
    small, _ = get_within_budget(client, f"/api/cases/{case.pk}/risk-assessments/", LIST_BUDGET, 1)
    item_small, _ = get_within_budget(client, f"/api/cases/{case.pk}/risk-assessments/{first.pk}/", ITEM_BUDGET, 1)
    for yes in range(4, 9):
        assess(world, case, answers=answers_with(yes))
    large, response = get_within_budget(client, f"/api/cases/{case.pk}/risk-assessments/", LIST_BUDGET, 1)
    assert len(response.json()) == 6
    item_large, _ = get_within_budget(client, f"/api/cases/{case.pk}/risk-assessments/{first.pk}/", ITEM_BUDGET, 1)
    assert (small, item_small) == (large, item_large)


def test_meeting_eligible_costs_the_same_for_2_and_8_cases(world):
    client = token_client(world.lead_supervisor)
    for _ in range(2):
        assess(world, case_build(world), answers=answers_with(14))
    small, response = get_within_budget(client, "/api/risk/meeting-eligible/", ELIGIBLE_BUDGET, 0)
    assert len(response.json()) == 2
    for _ in range(6):
        assess(world, case_build(world), answers=answers_with(yes=["strangulation"]))
    large, response = get_within_budget(client, "/api/risk/meeting-eligible/", ELIGIBLE_BUDGET, 0)
    assert len(response.json()) == 8 and {row["reasons"][0] for row in response.json()} == {"high_risk"}
    assert small == large


def test_the_case_pages_risk_panel_costs_the_same_for_1_and_6_assessments(world, client):
    client.force_login(world.lead_responder)
    case = case_build(world)
    action_log(access=case_get_for_user(user=world.lead_responder, case_id=case.pk), actor=world.lead_responder,
               data={"type": "contact", "text": "Lần đầu"})
    assess(world, case, answers=answers_with(3))
    from tests.cases.test_api_queries import PAGE_DETAIL_BUDGET, PAGE_PANEL_READ

    # Both measured requests are a session's later ones: its first reads the person apart (accounts.session_store).
    client.get("/cases/")
    # The risk panel reads the assessments the case has (PAGE_PANEL_READ); the plan and takedowns none.
    small, _ = get_within_budget(client, f"/cases/{case.pk}/", PAGE_DETAIL_BUDGET + PAGE_PANEL_READ, 2)
    for yes in range(4, 9):
        assess(world, case, answers=answers_with(yes))
    large, response = get_within_budget(client, f"/cases/{case.pk}/", PAGE_DETAIL_BUDGET + PAGE_PANEL_READ, 2)
    assert response.content.decode().count("<tr>") >= 6
    assert small == large
