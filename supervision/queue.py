"""The review queue of an agency: what its supervisors have not yet signed off.

- handoffs sent or received by the agency that it has not reviewed, except those still waiting for
  an answer within their deadline (there is nothing to judge yet); emergency-override handoffs are
  always listed, first;
- emergency consent overrides waiting for review on cases the agency leads;
- break-glass uses of the agency's cases (its lead at the time of use) or by its own staff, not yet
  reviewed by the agency;
- open cases the agency leads whose risk level was lowered after it had been raised: the latest
  completed assessment's level is lower than an earlier one's (issue 17, part 5); a case leaves the
  list when a new assessment is not lower, or when it is closed;
- case meetings the agency coordinated that were held and have no signed minutes yet; a meeting
  leaves the list when its chair signs a version of the minutes.

On PostgreSQL the handoffs and the lowered risk levels are read from tables that triggers keep (migration
supervision 0008): each agency's handoffs awaiting its review (QueueHandoff, with their count in
AgencyReviewQueue) and the open cases whose risk was lowered (QueueRiskLowered), so that the queue costs
what the backlog holds, not the agency's history; what depends on the time of reading (a deadline passing)
is read at each view from the rows still waiting. SQLite reads the same items live; both give the same
rows (tests/supervision/test_queue_backlog.py, test_queue_counts.py).
"""

import datetime
from dataclasses import dataclass
from types import SimpleNamespace

from django.db import connections, router
from django.db.models import Exists, F, Func, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce
from django.utils import timezone

from agencies.models import Agency, Membership
from cases.models import Case, CaseStatus, Consent
from conferences.models import CaseMeeting, MeetingMinutes, MeetingStatus, MinutesStatus
from config.compiled import CompiledQuery
from handoffs.models import Handoff, HandoffStatus
from permissions.models import BreakGlassUse
from permissions.policy import CASE_ROLES
from risk.models import AssessmentStatus, RiskAssessment

from .models import AgencyReviewQueue, BreakGlassReview, HandoffReview, QueueHandoff, QueueRiskLowered

QUEUE_SECTION_LIMIT = 50


def _on_postgresql() -> bool:
    """Whether the queue's backlog tables are kept (PostgreSQL's triggers, migration supervision 0008)."""
    return connections[router.db_for_read(Handoff)].vendor == "postgresql"


def _waiting_in_time(now: datetime.datetime) -> Q:
    """Handoffs not yet for review: still waiting within their deadline, no emergency override."""
    return Q(status=HandoffStatus.SENT, due_at__gte=now, emergency_override=False)


def _for_review(qs: QuerySet[Handoff], *, agency: Agency, now: datetime.datetime) -> QuerySet[Handoff]:
    """The handoffs of `qs` the agency has to review: not reviewed by it, not waiting within their deadline."""
    reviewed = HandoffReview.objects.filter(handoff=OuterRef("pk"), agency=agency)
    return qs.exclude(_waiting_in_time(now)).exclude(Exists(reviewed))


def queue_handoffs(*, agency: Agency, now: datetime.datetime | None = None) -> QuerySet[Handoff]:
    now = now or timezone.now()
    return (
        _for_review(Handoff.objects.filter(Q(from_agency=agency) | Q(to_agency=agency)), agency=agency, now=now)
        .select_related("case", "from_agency", "to_agency")
        .order_by("-emergency_override", "-sent_at", "-id")
    )


def queue_consent_overrides(*, agency: Agency) -> QuerySet[Consent]:
    return (
        Consent.objects.filter(case__lead_agency=agency, needs_review=True, emergency_override=True)
        .select_related("case", "receiving_agency", "recorded_by", "recorded_by_agency")
        .order_by("-recorded_at", "-id")
    )


def break_glass_uses_for_agency(*, agency: Agency) -> QuerySet[BreakGlassUse]:
    """Uses on the agency's cases (lead at the time of use) or by its own responders and supervisors."""
    # A UNION of two index reads (lead agency; the agency's staff as users), not "lead OR EXISTS" over
    # every break-glass use of the country, which the database can only answer by reading them all.
    own_staff = Membership.objects.filter(agency=agency, role__in=CASE_ROLES).values("user_id")
    ids = (BreakGlassUse.objects.filter(lead_agency=agency).order_by().values("pk")
           .union(BreakGlassUse.objects.filter(user_id__in=own_staff).order_by().values("pk")))
    return (
        BreakGlassUse.objects.filter(pk__in=ids)
        .select_related("case", "user", "lead_agency")
        .order_by("-started_at", "-id")
    )


def queue_break_glass(*, agency: Agency) -> QuerySet[BreakGlassUse]:
    reviewed = BreakGlassReview.objects.filter(use=OuterRef("pk"), agency=agency)
    return break_glass_uses_for_agency(agency=agency).exclude(Exists(reviewed))


def queue_risk_lowered(*, agency: Agency) -> QuerySet[Case]:
    """Open cases the agency leads whose latest completed assessment has a lower level than an
    earlier one; each row carries `latest_level`, `latest_at` and `highest_rank` (the earlier peak)."""
    completed = RiskAssessment.objects.filter(case_id=OuterRef("pk"), status=AssessmentStatus.COMPLETED)
    latest = completed.order_by("-completed_at", "-id")
    earlier_peak = (completed.filter(completed_at__lt=OuterRef("latest_at")).order_by()
                    .values("case_id").annotate(peak=Max("level_rank")).values("peak"))
    cases = Case.objects.filter(lead_agency=agency).exclude(status=CaseStatus.CLOSED)
    if _on_postgresql():
        # The few open cases whose risk was lowered (QueueRiskLowered), each checked as below: not every open case.
        cases = cases.filter(pk__in=QueueRiskLowered.objects.filter(agency=agency).values("case_id"))
    return (
        cases
        .annotate(latest_at=Subquery(latest.values("completed_at")[:1]),
                  latest_rank=Subquery(latest.values("level_rank")[:1]),
                  latest_level=Subquery(latest.values("level")[:1]))
        .annotate(highest_rank=Subquery(earlier_peak[:1]))
        .filter(highest_rank__gt=F("latest_rank"))
        .order_by("-latest_at", "-id")
    )


def queue_meetings_without_minutes(*, agency: Agency) -> QuerySet[CaseMeeting]:
    """Meetings the agency coordinated, held, with no signed version of their minutes."""
    signed = MeetingMinutes.objects.filter(meeting=OuterRef("pk"), status=MinutesStatus.SIGNED)
    return (CaseMeeting.objects.filter(coordinator_agency=agency, status=MeetingStatus.HELD)
            .exclude(Exists(signed)).select_related("chair").order_by("held_on", "id"))


@dataclass(frozen=True)
class ReviewQueue:
    handoffs: list
    handoff_count: int
    consent_overrides: list
    consent_override_count: int
    break_glass: list
    break_glass_count: int
    risk_lowered: list
    risk_lowered_count: int
    meetings_without_minutes: list
    meetings_without_minutes_count: int

    @property
    def total(self) -> int:
        return (self.handoff_count + self.consent_override_count + self.break_glass_count + self.risk_lowered_count
                + self.meetings_without_minutes_count)


_SECTIONS = {
    "handoff": queue_handoffs,
    "consent_override": lambda agency, now: queue_consent_overrides(agency=agency),
    "break_glass": lambda agency, now: queue_break_glass(agency=agency),
    "risk_lowered": lambda agency, now: queue_risk_lowered(agency=agency),
    "meeting_without_minutes": lambda agency, now: queue_meetings_without_minutes(agency=agency),
}
SECTIONS = tuple(_SECTIONS)


def _sections(agency: Agency, now: datetime.datetime | None) -> dict[str, QuerySet]:
    return {key: section(agency=agency, now=now) for key, section in _SECTIONS.items()}


_HANDOFF_STATUS_LABELS = dict(Handoff._meta.get_field("status").flatchoices)


class QueueHandoffRow:
    """A handoff as the queue lists it (supervision/_queue_handoff.html; the API reads its pk), read as one
    row of columns: its attributes are those of a Handoff, for what the queue shows."""

    __slots__ = ("pk", "case", "from_agency", "to_agency", "status", "emergency_override")

    def __init__(self, row: tuple):
        self.pk, number, from_agency, to_agency, self.status, self.emergency_override = row
        self.case = SimpleNamespace(number=number)
        self.from_agency, self.to_agency = SimpleNamespace(name=from_agency), SimpleNamespace(name=to_agency)

    def get_status_display(self) -> str:
        return str(_HANDOFF_STATUS_LABELS.get(self.status, self.status))


def _listed(agency_id: int, now: datetime.datetime) -> QuerySet[QueueHandoff]:
    """The agency's rows of QueueHandoff that queue_handoffs lists: not waiting within their deadline."""
    return QueueHandoff.objects.filter(Q(waiting_until__isnull=True) | Q(waiting_until__lt=now), agency_id=agency_id)


def _first_handoffs(*, agency_id: int, now: datetime.datetime, limit: int, columns: tuple[str, ...]) -> QuerySet:
    """The first `limit` of queue_handoffs as values_list(*columns). On PostgreSQL their ids are the first
    `limit` of the agency's handoffs awaiting its review (QueueHandoff, read in the queue's order off
    queue_handoff_order and stopped at `limit`), and only those rows are joined to their case and agencies:
    what the agency reviewed long ago is not read again."""
    if not _on_postgresql():
        return queue_handoffs(agency=Agency(pk=agency_id), now=now).values_list(*columns)[:limit]
    order = ("-emergency_override", "-sent_at", "-id")
    first = _listed(agency_id, now).order_by("-emergency_override", "-sent_at", "-handoff_id").values("handoff_id")
    return Handoff.objects.filter(pk__in=first[:limit]).order_by(*order).values_list(*columns)


_HANDOFF_COLUMNS = ("id", "case__number", "from_agency__name", "to_agency__name", "status", "emergency_override")
# The handoff section's first QUEUE_SECTION_LIMIT rows, compiled once (config.compiled).
_HANDOFF_ROWS = CompiledQuery(
    lambda agency_id, now: _first_handoffs(agency_id=agency_id, now=now, limit=QUEUE_SECTION_LIMIT,
                                           columns=_HANDOFF_COLUMNS),
    agency_id="int", now="datetime")


def review_queue(*, agency: Agency, now: datetime.datetime | None = None,
                 limit: int = QUEUE_SECTION_LIMIT) -> ReviewQueue:
    """Each section's first `limit` items and its full count, whatever the backlog: one query for the
    counts, one more for each section that has items (the handoffs as QueueHandoffRow)."""
    now = now or timezone.now()
    counts = review_queue_counts(agency=agency, now=now)
    parts = []
    for key, section in _SECTIONS.items():
        if not counts[key]:
            items = []
        elif key == "handoff" and limit == QUEUE_SECTION_LIMIT:
            items = [QueueHandoffRow(row) for row in _HANDOFF_ROWS.rows(model=Handoff, agency_id=agency.pk, now=now)]
        else:
            items = list(section(agency=agency, now=now)[:limit])
        parts.append((items, counts[key]))
    return ReviewQueue(*(value for part in parts for value in part))


def _row_count(qs: QuerySet) -> Subquery:
    # COUNT(*) of the rows, as a subquery of one row (a Func is no aggregate: the ORM groups nothing).
    return Subquery(qs.order_by().annotate(n=Func(template="COUNT(*)", output_field=IntegerField())).values("n"))


def _handoff_count(*, agency_id: int, now: datetime.datetime) -> Subquery | CombinedExpression:
    """How many handoffs queue_handoffs lists. On PostgreSQL, the agency's count of handoffs awaiting its
    review (AgencyReviewQueue) less those of them still waiting within their deadline (off the partial index
    queue_handoff_waiting): two rows and a few, whatever the agency's history and backlog."""
    if not _on_postgresql():
        return _row_count(queue_handoffs(agency=Agency(pk=agency_id), now=now))
    kept = Subquery(AgencyReviewQueue.objects.filter(agency_id=agency_id).values("handoffs"))
    waiting = QueueHandoff.objects.filter(agency_id=agency_id, waiting_until__gte=now)
    return Coalesce(kept, Value(0), output_field=IntegerField()) - _row_count(waiting)


def _count_expressions(*, agency_id: int, now: datetime.datetime) -> dict:
    """Each section's count as an expression of one row; the handoffs counted off a shape of their own
    (_handoff_count): the same rows as queue_handoffs, which tests/supervision/test_queue_counts.py compares
    on a changing world."""
    sections = _sections(Agency(pk=agency_id), now)
    return {key: _handoff_count(agency_id=agency_id, now=now) if key == "handoff" else _row_count(qs)
            for key, qs in sections.items()}


def _counts_query(*, agency_id: int, now: datetime.datetime) -> QuerySet:
    expressions = _count_expressions(agency_id=agency_id, now=now)
    # order_by(): not the agencies' order, which joins their province for a query of one row.
    return (Agency.objects.filter(pk=agency_id).order_by()
            .annotate(**{f"queue_{key}": expressions[key] for key in SECTIONS})
            .values_list(*(f"queue_{key}" for key in SECTIONS)))


# The five counts in one statement, built and compiled by the ORM once per process (config.compiled).
_COUNTS = CompiledQuery(_counts_query, agency_id="int", now="datetime")


def review_queue_counts(*, agency: Agency, now: datetime.datetime | None = None) -> dict[str, int]:
    """How many items wait in each section, in one query. It counts consents and break-glass uses (with the
    agency's memberships), which are read on the primary only (config.db_router): so is this query."""
    (row,) = _COUNTS.rows(model=Consent, agency_id=agency.pk, now=now or timezone.now())
    return dict(zip(SECTIONS, row, strict=True))
