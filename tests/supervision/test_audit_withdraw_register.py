"""Audit (withdrawn consent): what the supervisor of an agency that lost a case still learns of it from the
handoff register's two case lists (cases handed on more than N times, cases with no action for N days).

Both lists are read from trigger-kept rows (supervision.models.CaseHandoffs, CaseActivity) that follow the
handoffs' status only: a consent withdrawn, or one that ends at its expiry, takes the case from the agency
(no access row in force) but leaves its rows, so the lists keep showing the case, with facts that keep
changing after the loss. These tests fail on the code they were written against.

Synthetic data only.
"""

import datetime
import re

import pytest
import time_machine
from django.utils import timezone

from cases.models import Consent
from cases.selectors import case_get_for_user
from cases.services import case_change_status, consent_withdraw
from config.exceptions import NotFound
from handoffs.services import handoff_accept
from tests.cases.services_helpers import access_for, consent_data, consent_record_through_edge, open_case
from tests.conftest import time_limits_ensure
from tests.supervision.conftest import send, social_build

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
SUMMARY = "/api/supervision/handoffs/summary/"


@pytest.fixture(autouse=True)
def _time_limits(db):
    time_limits_ensure()


def _lost_by_health(world, *, expires_at=None):
    """A police case referred to the hospital on a medical consent and accepted there; then the consent is
    withdrawn (or, with `expires_at`, left to end at its time). Returns (case, consent)."""
    case = open_case(world, consent=consent_data(world, granted_categories=["medical"], expires_at=expires_at))
    consent = Consent.objects.get(case=case, receiving_agency=world.health)
    handoff_accept(user=world.receiving_responder, handoff_id=send(world, case).pk)
    if expires_at is None:
        consent_withdraw(access=access_for(world.lead_responder, case, "manage_sharing"), actor=world.lead_responder,
                         consent_id=consent.pk, reason="")
        with pytest.raises(NotFound):
            case_get_for_user(user=world.receiving_responder, case_id=case.pk)
    return case, consent


def _transferred_to_social(world, case):
    """The police, with the survivor's consent for the social work centre, transfer the lead to it."""
    social, social_responder, _social_supervisor = social_build(world)
    consent_record_through_edge(access=access_for(world.lead_responder, case, "manage_sharing"),
                                actor=world.lead_responder,
                                data=consent_data(world, receiving_agency=social, granted_categories=["contact"],
                                                  refused_categories=[], purpose="Nhà tạm lánh"))
    transfer = send(world, case, kind="transfer", to_agency=social, categories=["contact"])
    handoff_accept(user=social_responder, handoff_id=transfer.pk)
    case.refresh_from_db()
    assert case.lead_agency_id == social.pk
    return social


def _idle(api, user, **query) -> set[str]:
    return {row["number"] for row in _summary(api, user, idle_days=1, **query)["cases_without_action"]}


def _summary(api, user, **query) -> dict:
    response = api(user).get(SUMMARY, query)
    assert response.status_code == 200, response.content
    return response.json()


def test_cases_handed_on_does_not_list_a_case_whose_consent_was_withdrawn(world, api):
    """W1: after the survivor withdraws the hospital's consent, the police transfer the case to the social
    work centre. The hospital's supervisor still finds the case in 'cases handed on', with its new lead
    agency's name and the count of every agency's handoffs: facts of a case the hospital may no longer see."""
    case, _consent = _lost_by_health(world)
    _transferred_to_social(world, case)

    listed = {row["number"]: row for row in _summary(api, world.receiving_supervisor, more_than=0)["cases_handed_on"]}
    assert case.number not in listed, (
        f"the hospital, which lost the case, still reads it handed on {listed[case.number]['handoff_count']} times, "
        f"now led by {listed[case.number]['lead_agency']}")


def test_register_page_does_not_name_the_new_lead_of_a_case_the_agency_lost(world, web):
    """W1 (page): the register's 'handed on' list, as the supervisor's home page draws it."""
    case, _consent = _lost_by_health(world)
    social = _transferred_to_social(world, case)
    page = web(world.receiving_supervisor).get("/supervision/", {"more_than": 0}).content.decode()
    # The register's own rows list the hospital's handoff with its case number (its business); the
    # 'handed on' list is about the case.
    handed_on = re.search(r'data-testid="handed-on">(.*?)</ul>', page, re.S)
    shown = handed_on.group(1) if handed_on else ""
    assert case.number not in shown
    assert social.name not in shown, "the hospital's supervisor reads who leads the case it lost"


def test_cases_without_action_does_not_list_a_case_whose_consent_was_withdrawn(world, api):
    """W2: the idle list keeps a case the agency lost (its handoff is still 'accepted'), and the case leaves
    the list only when it is closed: the hospital's supervisor learns when a case it may not see is closed."""
    case, _consent = _lost_by_health(world)
    with time_machine.travel(timezone.now() + 3 * DAY, tick=False):
        idle = _idle(api, world.receiving_supervisor)
    assert case.number not in idle


def test_the_idle_list_does_not_tell_the_agency_that_lost_a_case_when_it_is_closed(world, api):
    """W2 (what is learnt): whatever the list shows of a lost case, it must not change when the lead closes it."""
    case, _consent = _lost_by_health(world)
    later = timezone.now() + 3 * DAY
    with time_machine.travel(later, tick=False):
        before = _idle(api, world.receiving_supervisor)
    case_change_status(access=access_for(world.lead_responder, case), actor=world.lead_responder, status="closed",
                       close_reason="Đã hỗ trợ xong.")
    with time_machine.travel(later, tick=False):
        after = _idle(api, world.receiving_supervisor)
    assert (case.number in before) == (case.number in after), "the list told the hospital the lost case was closed"


def test_cases_without_action_does_not_list_a_case_whose_consent_expired(world, api):
    """W2 (expiry by time): the consent ends at its instant and the case is no longer the hospital's to see;
    the idle list still lists it after that instant."""
    ends = timezone.now() + DAY
    case, _consent = _lost_by_health(world, expires_at=ends)
    with time_machine.travel(ends + 2 * DAY, tick=False):
        with pytest.raises(NotFound):
            case_get_for_user(user=world.receiving_responder, case_id=case.pk)
        idle = _idle(api, world.receiving_supervisor)
    assert case.number not in idle


def test_register_row_does_not_count_handoffs_made_after_the_agency_lost_the_case(world, api):
    """W1 (the register's rows): each row of the hospital's register carries `case_handoffs`, the case's
    handoffs of every agency, read at each view. After the hospital lost the case, the police hand it on twice
    more; the hospital's row of its own handoff counts them."""
    case, _consent = _lost_by_health(world)

    def counted() -> int:
        response = api(world.receiving_supervisor).get("/api/supervision/handoffs/")
        assert response.status_code == 200, response.content
        (row,) = [row for row in response.json()["results"] if row["case_number"] == case.number]
        return row["case_handoffs"]

    before = counted()
    _transferred_to_social(world, case)
    assert counted() == before, "the hospital's register tells it the case it lost was handed on again"


def test_the_other_sides_review_written_after_the_loss_is_not_shown(world, api):
    """W7: after the hospital lost the case, the police supervisor signs off the handoff with a comment about
    the survivor. The hospital's supervisor reads it among the handoff's milestones
    (GET /api/supervision/handoffs/{id}/), text typed about a case the hospital no longer sees."""
    from handoffs.models import Handoff
    from supervision.services import handoff_review_create

    case, _consent = _lost_by_health(world)
    handoff = Handoff.objects.get(case=case, to_agency=world.health)
    comment = "REVIEW-COMMENT: chị Hoa đã chuyển về ở với mẹ tại 25 ngõ Văn Chương."
    handoff_review_create(user=world.lead_supervisor, handoff_id=handoff.pk, agency_id=world.police.pk,
                          verdict="concern", comment=comment)
    response = api(world.receiving_supervisor).get(f"/api/supervision/handoffs/{handoff.pk}/")
    assert response.status_code == 200, response.content
    notes = [milestone["note"] for milestone in response.json()["milestones"]]
    assert comment not in notes, "the hospital's supervisor reads the police's comment on a case it lost"
