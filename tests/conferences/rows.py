"""Risk assessments, case meetings and action plan items written straight to the models, at given
times: for the tests that count or list them (reports, supervision), not for the services'
rules (tests/risk, tests/conferences). Synthetic data only."""

import datetime

from django.utils import timezone

from conferences.models import ActionPlanItem, CaseMeeting, MeetingCase, MeetingMinutes
from risk.instrument import level_rank
from risk.models import RiskAssessment


def assess(world, case, *, level, at, variant="adult", computed=None) -> RiskAssessment:
    """A completed assessment at `at`; `computed` lower than `level` is a professional judgement."""
    computed = computed or level
    return RiskAssessment.objects.create(
        case=case, instrument_code="hopluc-risk", instrument_version="1", variant=variant, status="completed",
        score=10, not_known_count=0, band=computed, computed_level=computed, computed_rank=level_rank(computed),
        level=level, level_rank=level_rank(level), assessor=world.lead_responder, agency=case.lead_agency,
        completed_at=at,
    )


def meeting(world, *, agency, held_on: datetime.date | None = None, mode="in_person", cases=(), chair=None,
            minutes: str | None = None):
    """A meeting coordinated by `agency`, held on `held_on` (None: only scheduled), with `cases` on
    its agenda and minutes version 1 in the state `minutes` ("draft", "signed" or None: none)."""
    chair = chair or world.lead_supervisor
    when = timezone.now() + datetime.timedelta(days=3)
    if held_on is not None:
        when = datetime.datetime.combine(held_on, datetime.time(9), tzinfo=timezone.get_current_timezone())
    item = CaseMeeting.objects.create(
        coordinator_agency=agency, scheduled_for=when, mode=mode, chair=chair,
        status="held" if held_on else "scheduled", held_on=held_on, created_by=chair,
    )
    entries = [MeetingCase.objects.create(meeting=item, case=case, added_by=chair) for case in cases]
    if minutes:
        signed = minutes == "signed"
        MeetingMinutes.objects.create(meeting=item, version=1, status=minutes, written_by=chair,
                                      signed_by=chair if signed else None, signed_at=timezone.now() if signed else None)
    return item, entries


def plan_item(world, entry, *, owner, due, status="open", finished=None) -> ActionPlanItem:
    return ActionPlanItem.objects.create(
        meeting_case=entry, case=entry.case, action="Gọi điện hỏi thăm", owner_agency=owner, due_at=due,
        status=status, finished_at=finished, created_by=world.lead_supervisor,
    )
