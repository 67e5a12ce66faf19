"""The review queue's counts and rows (since issue 15 the handoffs are counted off their order indexes, minus
the agency's reviews, in a shape of their own) are exactly what the sections' querysets as they were give
(`before` below; the lowered risk levels worked out in Python from the assessments, apart from the queue's
SQL and the triggers' table, so that a later change of either is checked against the rule itself): for
every agency, on a world changed step by step (reviews by either side, a handoff waiting within its
deadline and then past it, an override, assessments lowered, raised again, tied in time, a case closed, a
lead agency changed)."""

import datetime
from typing import NamedTuple

from agencies.models import Agency
from cases.models import Case, CaseStatus
from handoffs.models import Handoff
from risk.models import AssessmentStatus, RiskAssessment
from supervision.models import HandoffReview
from supervision.queue import SECTIONS, _sections, queue_handoffs, review_queue, review_queue_counts
from tests.cases.services_helpers import consent_data, open_case
from tests.conferences.rows import assess
from tests.reports.conftest import make_case
from tests.supervision.conftest import REGISTER_ONCE, send, set_times

pytestmark = REGISTER_ONCE

DAY = datetime.timedelta(days=1)


class RiskRow(NamedTuple):
    pk: int
    number: str
    latest_at: datetime.datetime
    latest_level: str
    latest_rank: int
    highest_rank: int


def risk_lowered_before(*, agency: Agency) -> list[RiskRow]:
    """supervision.queue.queue_risk_lowered's rows as `_risk_rows` reads them, from every open case of the
    agency: its latest completed assessment (by completion time, then id) when an earlier one (completed
    before it) had a higher level, most recently assessed first."""
    rows = []
    for case in Case.objects.filter(lead_agency=agency).exclude(status=CaseStatus.CLOSED):
        completed = sorted(RiskAssessment.objects.filter(case=case, status=AssessmentStatus.COMPLETED),
                           key=lambda a: (a.completed_at, a.pk))
        if not completed:
            continue
        latest = completed[-1]
        earlier_peak = max((a.level_rank for a in completed if a.completed_at < latest.completed_at), default=None)
        if earlier_peak is not None and earlier_peak > latest.level_rank:
            rows.append(RiskRow(case.pk, case.number, latest.completed_at, latest.level, latest.level_rank,
                                earlier_peak))
    return sorted(rows, key=lambda row: (row.latest_at, row.pk), reverse=True)


def before(agency: Agency, now: datetime.datetime) -> dict[str, int]:
    sections = _sections(agency, now)
    counts = {key: sections[key].count() for key in SECTIONS if key != "risk_lowered"}
    return {**counts, "risk_lowered": len(risk_lowered_before(agency=agency))}


def _risk_rows(cases) -> list[RiskRow]:
    return [RiskRow(c.pk, c.number, c.latest_at, c.latest_level, c.latest_rank, c.highest_rank) for c in cases]


def assert_same(now: datetime.datetime) -> int:
    """Every agency's counts and first rows equal the former querysets'; returns how many items were seen."""
    seen = 0
    for agency in Agency.objects.order_by("pk"):
        expected = before(agency, now)
        assert review_queue_counts(agency=agency, now=now) == expected, agency
        queue = review_queue(agency=agency, now=now)
        assert [h.pk for h in queue.handoffs] == [h.pk for h in queue_handoffs(agency=agency, now=now)[:50]]
        assert _risk_rows(queue.risk_lowered) == risk_lowered_before(agency=agency)[:50], agency
        seen += sum(expected.values())
    return seen


def review(handoff: Handoff, agency: Agency, reviewer) -> HandoffReview:
    return HandoffReview.objects.create(handoff=handoff, agency=agency, reviewer=reviewer, verdict="fine")


def test_counts_and_rows_equal_the_former_queries_on_a_changing_world(world, register):
    r, now = register, register.now
    seen = [assert_same(now)]

    # Reviews: police signs H1 off and H4 twice (health has not), health signs H2 off, social H3.
    review(r.h1, world.police, world.lead_supervisor)
    review(r.h2, world.health, world.receiving_supervisor)
    review(r.h4, world.police, world.lead_supervisor)
    review(r.h4, world.police, world.lead_supervisor)
    review(r.h3, r.social, r.social_supervisor)
    seen.append(assert_same(now))

    # A handoff waiting within its deadline is left out; past it, or as an override, it is listed.
    case = open_case(world, consent=consent_data(world, granted_categories=["medical"]))
    waiting = send(world, case, urgency="standard")
    waiting = set_times(waiting, sent_at=now - DAY, due_at=now + DAY)
    seen.append(assert_same(now))
    assert_same(now + 2 * DAY)
    Handoff.objects.filter(pk=waiting.pk).update(emergency_override=True, override_reason="Nguy hiểm.")
    seen.append(assert_same(now))
    Handoff.objects.filter(pk=waiting.pk).update(emergency_override=False, due_at=now - DAY / 2)
    seen.append(assert_same(now))

    # Risk levels: A lowered, B raised again after a lowering, C lowered but closed, D two assessments at
    # the same time (the later id is the latest), E lowered and then led by health, F one assessment only.
    c = {k: make_case(world, created_at=now - 90 * DAY, province=world.hue) for k in "ABCDEF"}
    assessments = {  # each case's, in the order they are made: (level, days ago)
        "A": [("high", 40), ("medium", 2)],
        "B": [("severe", 60), ("low", 50)],
        "C": [("high", 40), ("low", 30)],
        "D": [("high", 40), ("low", 10), ("severe", 10)],
        "E": [("severe", 40), ("medium", 4)],
        "F": [("high", 4)],
    }
    for key, made in assessments.items():
        for level, days_ago in made:
            assess(world, c[key], level=level, at=now - days_ago * DAY)
    seen.append(assert_same(now))
    assess(world, c["B"], level="severe", at=now - DAY)  # B: no longer lower than its peak
    Case.objects.filter(pk=c["C"].pk).update(status=CaseStatus.CLOSED, closed_at=now)
    Case.objects.filter(pk=c["E"].pk).update(lead_agency=world.health)
    seen.append(assert_same(now))
    # D's tie the other way round: the lower one now has the later id.
    assess(world, c["D"], level="high", at=now - 40 * DAY)
    RiskAssessment.objects.filter(case=c["D"], level="severe").delete()
    seen.append(assert_same(now))
    # The world did change, and the queue showed some of it at each step.
    assert len(set(seen)) > 3 and min(seen) > 0
    assert review_queue_counts(agency=world.health, now=now)["risk_lowered"] == 1
