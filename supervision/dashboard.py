"""The supervisor's dashboard: deadline compliance by agency and ISO week, overdue deadlines and
pending reviews.

The deadlines are those the agency owns (its answers to handoffs, its follow-ups) and those of
the handoffs it sent, owned by the agencies it handed to (escalated back to it): so the supervisor
sees both how the agency keeps its own deadlines and how the agencies it relies on keep theirs.
A deadline is met when closed by its due time, missed when closed later or still open after it,
open otherwise; deadlines closed because their handoff was withdrawn or their review superseded
count for nobody.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import ExtractIsoYear, ExtractWeek
from django.utils import timezone

from agencies.models import Agency
from notifications.calendar import VIETNAM
from notifications.models import Deadline

from .queue import review_queue_counts
from .services import SUPERSEDED

VOID_REASONS = ("withdrawn", SUPERSEDED)
DEFAULT_WEEKS = 12
MAX_WEEKS = 52


def _week_start(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.isoweekday() - 1)


def dashboard_deadlines(*, agency: Agency) -> QuerySet[Deadline]:
    return Deadline.objects.filter(Q(owner_agency=agency) | Q(escalate_agency=agency)).exclude(
        closed_reason__in=VOID_REASONS)


@dataclass(frozen=True)
class WeekRow:
    iso_year: int
    week: int
    monday: datetime.date
    met: int
    missed: int
    open: int

    @property
    def total(self) -> int:
        return self.met + self.missed + self.open


@dataclass(frozen=True)
class AgencyCompliance:
    agency_id: int
    agency_name: str
    weeks: list[WeekRow]

    @property
    def met(self) -> int:
        return sum(w.met for w in self.weeks)

    @property
    def missed(self) -> int:
        return sum(w.missed for w in self.weeks)

    @property
    def open(self) -> int:
        return sum(w.open for w in self.weeks)


def deadline_compliance(*, agency: Agency, weeks: int = DEFAULT_WEEKS,
                        now: datetime.datetime | None = None) -> list[AgencyCompliance]:
    """Met / missed / open deadlines per owner agency and ISO week of their due time (Viet Nam),
    for the last `weeks` weeks up to the current one. One GROUP BY query; the agency itself first."""
    now = now or timezone.now()
    today = timezone.localtime(now, VIETNAM).date()
    first_monday = _week_start(today) - datetime.timedelta(weeks=weeks - 1)
    start = datetime.datetime.combine(first_monday, datetime.time.min, tzinfo=VIETNAM)
    end = datetime.datetime.combine(_week_start(today) + datetime.timedelta(days=7), datetime.time.min, tzinfo=VIETNAM)
    rows = (
        dashboard_deadlines(agency=agency).filter(due_at__gte=start, due_at__lt=end)
        .annotate(iso_year=ExtractIsoYear("due_at", tzinfo=VIETNAM), week=ExtractWeek("due_at", tzinfo=VIETNAM))
        .values("owner_agency_id", "owner_agency__name", "iso_year", "week")
        .annotate(
            met=Count("id", filter=Q(closed_at__isnull=False, closed_at__lte=F("due_at"))),
            missed=Count("id", filter=Q(closed_at__gt=F("due_at")) | Q(closed_at__isnull=True, due_at__lt=now)),
            open=Count("id", filter=Q(closed_at__isnull=True, due_at__gte=now)),
        )
        .order_by()
    )
    counts: dict[int, dict[tuple[int, int], tuple[int, int, int]]] = {}
    names: dict[int, str] = {}
    for row in rows:
        names[row["owner_agency_id"]] = row["owner_agency__name"]
        counts.setdefault(row["owner_agency_id"], {})[(row["iso_year"], row["week"])] = (
            row["met"], row["missed"], row["open"])
    mondays = [first_monday + datetime.timedelta(weeks=i) for i in range(weeks)]
    result = []
    for agency_id in sorted(names, key=lambda i: (i != agency.pk, names[i])):
        by_week = counts[agency_id]
        result.append(AgencyCompliance(agency_id, names[agency_id], [
            WeekRow(m.isocalendar()[0], m.isocalendar()[1], m, *by_week.get(m.isocalendar()[:2], (0, 0, 0)))
            for m in mondays
        ]))
    return result


def overdue_deadlines(*, agency: Agency, now: datetime.datetime | None = None) -> QuerySet[Deadline]:
    now = now or timezone.now()
    return (dashboard_deadlines(agency=agency).filter(closed_at__isnull=True, due_at__lt=now)
            .select_related("owner_agency", "owner_user").order_by("due_at", "id"))


@dataclass(frozen=True)
class Dashboard:
    compliance: list[AgencyCompliance]
    overdue: list
    overdue_count: int
    pending_reviews: dict[str, int]


def dashboard(*, agency: Agency, weeks: int = DEFAULT_WEEKS, now: datetime.datetime | None = None,
              limit: int = 50) -> Dashboard:
    now = now or timezone.now()
    overdue = overdue_deadlines(agency=agency, now=now)
    return Dashboard(
        compliance=deadline_compliance(agency=agency, weeks=weeks, now=now),
        overdue=list(overdue[:limit]), overdue_count=overdue.count(),
        pending_reviews=review_queue_counts(agency=agency, now=now),
    )
