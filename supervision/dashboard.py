"""The supervisor's dashboard: deadline compliance by agency and ISO week, overdue deadlines,
pending reviews, and the follow-up of risk (issue 17, part 5): the agency's high-risk cases with no
case meeting within MEETING_WITHIN_DAYS, and overdue action plan items by owner agency.

The deadlines are those the agency owns (its answers to handoffs, its follow-ups) and those of
the handoffs it sent, owned by the agencies it handed to (escalated back to it): so the supervisor
sees both how the agency keeps its own deadlines and how the agencies it relies on keep theirs.
A deadline is met when closed by its due time, missed when closed later or still open after it,
open otherwise; deadlines closed because their handoff was withdrawn or their review superseded
count for nobody.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, ExtractIsoYear, ExtractWeek, TruncDate
from django.utils import timezone

from agencies.models import Agency
from cases.models import Case, CaseStatus, RiskLevel
from cases.selectors import case_seen_by_agency
from conferences.models import ActionPlanItem, MeetingCase, MeetingStatus, PlanItemStatus
from config.db_router import PRIMARY
from notifications.calendar import VIETNAM
from notifications.models import Deadline
from notifications.sight import deadline_seen
from risk.instrument import level_rank
from risk.models import AssessmentStatus, RiskAssessment

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
    """The open deadlines of dashboard_deadlines past their time, each with its case number and link: those
    about a case only while the agency sees the case (notifications.sight). Read on the primary, even in the
    dashboard's replica block: whether the agency sees a case is read from its access rows, which a lagging
    replica could still hold after a withdrawal (config.db_router)."""
    now = now or timezone.now()
    return (dashboard_deadlines(agency=agency).using(PRIMARY)
            .filter(deadline_seen(agency=agency.pk, now=now), closed_at__isnull=True, due_at__lt=now)
            .select_related("owner_agency", "owner_user").order_by("due_at", "id"))


# --- Follow-up of risk (issue 17, part 5) ------------------------------------------------------------

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def high_risk_without_meeting(*, agency: Agency, now: datetime.datetime | None = None,
                              within_days: int | None = None) -> QuerySet[Case]:
    """Open cases the agency leads whose latest completed assessment is high or severe, that became
    high risk (the first high or severe assessment since the last lower one) at least `within_days`
    (MEETING_WITHIN_DAYS) ago, and that have had no case meeting held on or after that day. Each row
    carries `high_since` and `latest_level`; the longest waiting first. One query."""
    now = now or timezone.now()
    days = settings.MEETING_WITHIN_DAYS if within_days is None else within_days
    high = level_rank(RiskLevel.HIGH)
    completed = RiskAssessment.objects.filter(case_id=OuterRef("pk"), status=AssessmentStatus.COMPLETED)
    latest = completed.order_by("-completed_at", "-id")
    last_lower = completed.filter(level_rank__lt=high).order_by("-completed_at", "-id")
    first_high = (RiskAssessment.objects.filter(case_id=OuterRef("pk"), status=AssessmentStatus.COMPLETED,
                                                level_rank__gte=high, completed_at__gt=OuterRef("last_lower_at"))
                  .order_by("completed_at", "id"))
    met = MeetingCase.objects.filter(case_id=OuterRef("pk"), meeting__status=MeetingStatus.HELD,
                                     meeting__held_on__gte=OuterRef("high_since_day"))
    return (
        Case.objects.filter(lead_agency=agency).exclude(status=CaseStatus.CLOSED)
        .annotate(latest_rank=Subquery(latest.values("level_rank")[:1]),
                  latest_level=Subquery(latest.values("level")[:1]))
        .filter(latest_rank__gte=high)
        .annotate(last_lower_at=Coalesce(Subquery(last_lower.values("completed_at")[:1]), Value(_EPOCH)))
        .annotate(high_since=Subquery(first_high.values("completed_at")[:1]))
        .annotate(high_since_day=TruncDate("high_since", tzinfo=VIETNAM))
        .filter(high_since__lte=now - datetime.timedelta(days=days))
        .exclude(Exists(met))
        .order_by("high_since", "id")
    )


@dataclass(frozen=True)
class OverduePlanItems:
    agency_id: int
    agency_name: str
    overdue: int


def plan_items_overdue_by_agency(*, agency: Agency, now: datetime.datetime | None = None) -> list[OverduePlanItems]:
    """Open action plan items past their due time, counted by owner agency: those the agency owns and
    those agreed at the meetings it coordinated, of cases both the agency and the owner agency see at `now`
    (an agency that lost a case learns nothing more of its plan, and an owner that cannot see the case is
    not counted as late with it: the coordinator answers for it, notifications.sight). The agency itself
    first. One GROUP BY query, on the primary even in the dashboard's replica block: who sees a case is
    read from the access rows (as overdue_deadlines)."""
    now = now or timezone.now()
    rows = (
        ActionPlanItem.objects.using(PRIMARY)
        .filter(Q(owner_agency=agency) | Q(meeting_case__meeting__coordinator_agency=agency),
                case_seen_by_agency(case_id=OuterRef("case_id"), agency_id=agency.pk, now=now),
                case_seen_by_agency(case_id=OuterRef("case_id"), agency_id=OuterRef("owner_agency_id"), now=now),
                status=PlanItemStatus.OPEN, due_at__lt=now)
        .values("owner_agency_id", "owner_agency__name").annotate(n=Count("id")).order_by()
    )
    result = [OverduePlanItems(r["owner_agency_id"], r["owner_agency__name"], r["n"]) for r in rows]
    return sorted(result, key=lambda r: (r.agency_id != agency.pk, r.agency_name))


@dataclass(frozen=True)
class Dashboard:
    compliance: list[AgencyCompliance]
    overdue: list
    overdue_count: int
    pending_reviews: dict[str, int]
    high_risk_without_meeting: list
    high_risk_without_meeting_count: int
    meeting_within_days: int
    plan_items_overdue: list[OverduePlanItems]


def dashboard(*, agency: Agency, weeks: int = DEFAULT_WEEKS, now: datetime.datetime | None = None,
              limit: int = 50) -> Dashboard:
    now = now or timezone.now()
    overdue = overdue_deadlines(agency=agency, now=now)
    waiting = high_risk_without_meeting(agency=agency, now=now)
    waiting_first = list(waiting[:limit])
    # Counted only when the first page is full (a count query saved on most dashboards).
    waiting_count = len(waiting_first) if len(waiting_first) < limit else waiting.count()
    return Dashboard(
        compliance=deadline_compliance(agency=agency, weeks=weeks, now=now),
        overdue=list(overdue[:limit]), overdue_count=overdue.count(),
        pending_reviews=review_queue_counts(agency=agency, now=now),
        high_risk_without_meeting=waiting_first, high_risk_without_meeting_count=waiting_count,
        meeting_within_days=settings.MEETING_WITHIN_DAYS,
        plan_items_overdue=plan_items_overdue_by_agency(agency=agency, now=now),
    )
