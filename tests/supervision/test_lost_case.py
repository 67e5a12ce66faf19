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

from conferences.models import ActionPlanItem
from handoffs.services import handoff_accept
from supervision.dashboard import plan_items_overdue_by_agency
from supervision.services import break_glass_review_create, handoff_review_create
from tests.cases.conftest import shared_case, time_limits  # noqa: F401 (fixtures)
from tests.cases.services_helpers import consent_data, open_case
from tests.conferences.rows import meeting, plan_item
from tests.supervision.conftest import OVERRIDE, REASON, send, social_build
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


def test_the_other_sides_comment_is_shown_while_the_case_is_seen_and_the_agencys_own_always(world, api, web):
    """W7: the police's review comment is read by the hospital's supervisor while the hospital sees the case,
    and no longer once it lost it (API and page); the hospital's own comment, and the police's verdict, stay."""
    case, handoff = _accepted_by_health(world)
    theirs = "POLICE-COMMENT: đã hẹn lấy lời khai tại nhà."
    own = "HEALTH-COMMENT: trả lời đúng hạn."
    handoff_review_create(user=world.lead_supervisor, handoff_id=handoff.pk, verdict="concern", comment=theirs)
    handoff_review_create(user=world.receiving_supervisor, handoff_id=handoff.pk, verdict="concern", comment=own)

    def read() -> tuple[dict, str]:
        body = api(world.receiving_supervisor).get(f"/api/supervision/handoffs/{handoff.pk}/").json()
        page = web(world.receiving_supervisor).get(f"/supervision/handoffs/{handoff.pk}/").content.decode()
        return {m["agency"]: m["note"] for m in body["milestones"] if m["key"] == "review_concern"}, page

    notes, page = read()
    assert notes == {world.police.name: theirs, world.health.name: own}
    assert theirs in page and own in page
    hospital_consent_withdrawn(world, case)
    notes, page = read()
    assert notes == {world.police.name: "", world.health.name: own}
    assert theirs not in page and own in page
    # The police, who see the case, read both.
    body = api(world.lead_supervisor).get(f"/api/supervision/handoffs/{handoff.pk}/").json()
    assert {m["note"] for m in body["milestones"] if m["key"] == "review_concern"} == {theirs, own}


def test_the_break_glass_page_shows_the_lead_comment_only_to_agencies_that_see_the_case(
        world, register, break_glass_use, web):
    """W7 on the break-glass review page: the school's responder opened a police case; the police supervisor's
    comment (case text) is not shown to the school's supervisor, whose agency does not see the case, while the
    school's own comment is; the police read both. The use's reason is the user's own account of why, the very
    thing the user's agencies review: it stays shown to them."""
    theirs = "POLICE-COMMENT: nạn nhân đã chuyển nơi ở, không cần mở hồ sơ."
    own = "SCHOOL-COMMENT: đã nhắc nhở cô giáo."
    break_glass_review_create(user=world.lead_supervisor, use_id=break_glass_use.pk, verdict="concern",
                              comment=theirs)
    break_glass_review_create(user=world.outsider_supervisor, use_id=break_glass_use.pk, verdict="concern",
                              comment=own)
    path = f"/supervision/break-glass/{break_glass_use.pk}/"
    school = web(world.outsider_supervisor).get(path)
    assert school.status_code == 200
    shown = _shown(school.content.decode(), "reviews")
    assert own in shown and theirs not in shown and world.police.name in shown
    assert REASON in school.content.decode()
    police = _shown(web(world.lead_supervisor).get(path).content.decode(), "reviews")
    assert own in police and theirs in police
    # Neither agency's people in the wrong place read it.
    assert web(world.receiving_supervisor).get(path).status_code == 404
    assert web(world.outsider_responder).get(path).status_code == 403


def test_the_coordinator_that_lost_the_case_counts_none_of_its_plan_items(world, shared_case):  # noqa: F811 (fixture)
    """W8 (the other way round): the hospital coordinated a meeting on a police case it was referred, where the
    police took on an item; once the hospital lost the case its dashboard no longer counts that item, nor does
    the count change when the item is finished. The police, owner and lead, still count it."""
    today = timezone.localdate()
    _meeting, (entry,) = meeting(world, agency=world.health, held_on=today - 2 * DAY, cases=(shared_case.case,),
                                 chair=world.receiving_supervisor)
    now = timezone.now()
    item = plan_item(world, entry, owner=world.police, due=now - DAY)
    by_police = [(world.police.pk, 1)]
    assert [(r.agency_id, r.overdue) for r in plan_items_overdue_by_agency(agency=world.health)] == by_police
    hospital_consent_withdrawn(world, shared_case.case)
    assert plan_items_overdue_by_agency(agency=world.health) == []
    assert [(r.agency_id, r.overdue) for r in plan_items_overdue_by_agency(agency=world.police)] == by_police
    ActionPlanItem.objects.filter(pk=item.pk).update(status="cancelled", finished_at=now)
    assert plan_items_overdue_by_agency(agency=world.health) == []
