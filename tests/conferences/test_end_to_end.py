"""Issue 17's "Done when", end to end through the services: a responder records an assessment that
comes out high, the case appears on the coordinator's list (and, a month on without a meeting, on
the supervisor's dashboard), a meeting is held with three agencies, the plan's items remind and
escalate like a handoff's deadline (the deadline sweep), and the month's report counts all of it.

The clock is October 2026 (time-machine), so that the month is whole and the report is built as
the monthly job builds it. The sweep runs in this process with explicit times; the same deadline
through a real worker is tests/conferences/test_worker.py's. Synthetic data only."""

import datetime

import pytest
import time_machine

from agencies.models import Agency
from cases.selectors import case_get_for_user
from conferences.models import MeetingInvitation, PlanItemStatus
from conferences.selectors import cases_awaiting_meeting, meeting_get_for_user
from conferences.services import (
    decision_record,
    meeting_case_add,
    meeting_hold,
    meeting_invite,
    meeting_schedule,
    minutes_sign,
    plan_item_add,
    plan_item_finish,
)
from config.formats import VIETNAM
from notifications.models import Deadline, Notification
from notifications.services import deadline_sweep
from reports.indicators import month_drafts
from reports.services import monthly_reports_build
from risk.selectors import EligibilityReason
from supervision.dashboard import high_risk_without_meeting, plan_items_overdue_by_agency
from supervision.queue import queue_meetings_without_minutes
from tests.cases.conftest import case_build, medical_consent, referral_accepted
from tests.cases.services_helpers import consent_record_through_edge
from tests.reports.conftest import draft_cells, draft_get
from tests.risk.conftest import answers_with, assess
from tests.supervision.conftest import social_build

OCTOBER = datetime.date(2026, 10, 1)
T0 = datetime.datetime(2026, 10, 6, 9, 0, tzinfo=VIETNAM)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def social(world):
    """A social-work centre in Hà Nội with a responder and a supervisor (as in tests/supervision)."""
    return social_build(world)


def _access(user, meeting):
    return meeting_get_for_user(user=user, meeting_id=meeting.pk)


def _recipients(deadline: Deadline, stage: str) -> list[str]:
    return sorted(Notification.objects.filter(event_key=f"deadline:{deadline.pk}:{stage}")
                  .values_list("recipient__username", flat=True))


def test_a_high_assessment_leads_to_a_meeting_a_plan_and_the_months_report(world, time_limits, social,
                                                                            settings):
    settings.MEETING_WITHIN_DAYS = 30
    social_agency, social_responder, social_supervisor = social
    coordinator = world.lead_supervisor
    with time_machine.travel(T0, tick=False):
        # The case: led by the police, referred to health (medical) and to social work (psychosocial).
        case = case_build(world)
        lead = case_get_for_user(user=world.lead_responder, case_id=case.pk)
        consent_record_through_edge(access=lead, actor=world.lead_responder, data=medical_consent(world))
        consent_record_through_edge(access=lead, actor=world.lead_responder, data={
            "receiving_agency": social_agency.pk, "granted_categories": ["psychosocial"], "refused_categories": [],
            "purpose": "Tư vấn tâm lý", "given_by": "survivor"})
        referral_accepted(world, case, to=world.health, categories=["medical"])
        referral_accepted(world, case, to=social_agency, categories=["psychosocial"])
        assert case.statistics_consent

        # 1. The responder's assessment: strangulation alone makes it high.
        assessment = assess(world, case, answers=answers_with(yes=("strangulation",)))
        assert assessment.status == "completed" and assessment.level == "high"

        # 2. On the coordinator's list, with the reason.
        waiting = {row.case.pk: row for row in cases_awaiting_meeting(user=coordinator)}
        assert EligibilityReason.HIGH_RISK in waiting[case.pk].reasons
        # Left without a meeting for MEETING_WITHIN_DAYS, it would reach the supervisor's dashboard.
        later = T0 + datetime.timedelta(days=30, minutes=1)
        assert [c.pk for c in high_risk_without_meeting(agency=world.police, now=later)] == [case.pk]

        # 3. A meeting with three agencies: the police coordinate, health and social work are invited.
        meeting = meeting_schedule(actor=coordinator, scheduled_for=T0 + datetime.timedelta(days=1),
                                   mode="in_person", place="Phòng họp UBND phường", chair=coordinator)
        row = meeting_case_add(access=_access(coordinator, meeting), actor=coordinator, case_id=case.pk)
        for agency in (world.health, social_agency):
            meeting_invite(access=_access(coordinator, meeting), actor=coordinator, agency_id=agency.pk)
        assert set(MeetingInvitation.objects.filter(meeting=meeting).values_list("agency_id", flat=True)) == {
            world.police.pk, world.health.pk, social_agency.pk}
        assert case.pk not in {r.case.pk for r in cases_awaiting_meeting(user=coordinator)}

    held = T0 + datetime.timedelta(days=1)
    with time_machine.travel(held, tick=False):
        meeting_hold(access=_access(coordinator, meeting), actor=coordinator, held_on=held.date())
        assert [m.pk for m in queue_meetings_without_minutes(agency=world.police)] == [meeting.pk]
        decision_record(access=_access(coordinator, meeting), actor=coordinator, meeting_case_id=row.pk,
                        text="Khám lại, tư vấn tâm lý, lập kế hoạch an toàn.")
        check_up = plan_item_add(access=_access(coordinator, meeting), actor=coordinator, meeting_case_id=row.pk,
                                 action="Đưa nạn nhân đi khám lại.", owner_agency_id=world.health.pk,
                                 owner_user=world.receiving_responder, due_at=held + datetime.timedelta(days=2))
        counselling = plan_item_add(access=_access(coordinator, meeting), actor=coordinator,
                                    meeting_case_id=row.pk, action="Buổi tư vấn tâm lý đầu tiên.",
                                    owner_agency_id=social_agency.pk, owner_user=social_responder,
                                    due_at=held + datetime.timedelta(days=3))
        minutes_sign(access=_access(coordinator, meeting), actor=coordinator)
        assert not queue_meetings_without_minutes(agency=world.police).exists()
        # The met case is off the dashboard's list.
        assert not high_risk_without_meeting(agency=world.police, now=later).exists()

    # 4. The plan item's deadline reminds the owner, then goes overdue to the owner agency's
    # supervisors and escalates to the coordinating agency, as a handoff's response deadline does.
    deadline = Deadline.objects.get(subject=f"plan_item:{check_up.pk}", kind=Deadline.Kind.ACTION_PLAN)
    assert (deadline.owner_agency_id, deadline.escalate_agency_id) == (world.health.pk, world.police.pk)
    assert deadline.remind_at < deadline.due_at < deadline.escalate_at
    deadline_sweep(now=deadline.remind_at + MINUTE)
    assert _recipients(deadline, "reminded") == ["receiving_responder"]
    assert _recipients(deadline, "overdue") == []
    deadline_sweep(now=deadline.escalate_at + MINUTE)
    assert _recipients(deadline, "overdue") == ["receiving_supervisor"]
    assert "lead_supervisor" in _recipients(deadline, "escalated")
    overdue = plan_items_overdue_by_agency(agency=world.police, now=deadline.due_at + MINUTE)
    assert [(r.agency_id, r.overdue) for r in overdue] == [(world.health.pk, 1)]

    with time_machine.travel(held + datetime.timedelta(days=2, hours=1), tick=False):
        plan_item_finish(actor=social_responder, item_id=counselling.pk, status=PlanItemStatus.DONE)
    with time_machine.travel(deadline.escalate_at + datetime.timedelta(hours=2), tick=False):
        plan_item_finish(actor=world.receiving_responder, item_id=check_up.pk, status=PlanItemStatus.DONE)
    deadline.refresh_from_db()
    assert deadline.closed_at is not None

    # 5. October's report counts it: raw counts, then the published tables (small counts, protected).
    _, drafts = month_drafts(OCTOBER)
    assert draft_cells(draft_get(drafts, None, "high_risk_assessments")) == {("high", "adult"): 1}
    assert draft_cells(draft_get(drafts, None, "meetings_held")) == {("in_person", ""): 1}
    assert draft_cells(draft_get(drafts, None, "cases_discussed")) == {("police", ""): 1}
    assert draft_cells(draft_get(drafts, None, "plan_items_on_time")) == {
        ("late", "health"): 1, ("on_time", "social_work"): 1}
    assert Agency.objects.get(pk=social_agency.pk).sector == "social_work"
    outcome = monthly_reports_build(period=OCTOBER, today=datetime.date(2026, 11, 29))
    national = next(r for r in outcome.created if r.province_id is None)
    tables = {t["key"]: t for t in national.data["tables"]}
    for key in ("high_risk_assessments", "meetings_held", "cases_discussed", "plan_items_on_time"):
        table = tables[key]
        assert table["withheld"] or table["total"] in ("<5", "x"), (key, table["total"])
