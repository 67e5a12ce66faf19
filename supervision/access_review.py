"""Access review: who read or changed the agency's cases, from the audit trail, and the unusual access.

The agency's cases are the cases it leads now. A read is a `view` event of a case's page or data
(target "case:<id>"): the events that show case content. Working hours are 07:00–18:00 in Viet Nam,
Monday to Friday, public holidays (PublicHoliday rows) excepted.
"""

import csv
import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncDate
from django.utils import timezone

from agencies.models import Agency
from audit.models import AuditAction, AuditEvent
from audit.selectors import audit_event_list
from cases.models import Action
from cases.models import Case as CaseModel
from notifications.calendar import VIETNAM
from notifications.models import PublicHoliday
from permissions.models import BreakGlassUse
from privacy.breaches.selectors import breach_events_linked
from privacy.models import Breach

from .queue import break_glass_uses_for_agency

WORKDAY_START_HOUR = 7
WORKDAY_END_HOUR = 18
DEFAULT_PERIOD_DAYS = 30
DEFAULT_MIN_CASES = 10
# Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def agency_case_ids(*, agency: Agency) -> QuerySet:
    return CaseModel.objects.filter(lead_agency=agency).values("pk")


def case_reads_q() -> Q:
    return Q(action=AuditAction.VIEW, target__startswith="case:")


@dataclass(frozen=True)
class AccessFilters:
    case_id: int | None = None
    actor: str | None = None  # username as recorded
    action: str | None = None
    category: str | None = None
    since: datetime.date | None = None  # Viet Nam days, both ends included
    until: datetime.date | None = None


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=VIETNAM)


def period_bounds(since: datetime.date | None, until: datetime.date | None):
    return (_day_start(since) if since else None,
            _day_start(until + datetime.timedelta(days=1)) if until else None)


def access_log(*, agency: Agency, filters: AccessFilters | None = None) -> QuerySet[AuditEvent]:
    """Events on the agency's cases, newest first, each with its case number and agency name."""
    f = filters or AccessFilters()
    since, until = period_bounds(f.since, f.until)
    qs = audit_event_list(
        case_id=f.case_id, actions=[f.action] if f.action else None, categories=[f.category] if f.category else None,
        since=since, until=until,
    ).filter(case_id__in=agency_case_ids(agency=agency))
    if f.actor:
        qs = qs.filter(actor_username=f.actor)
    return qs.annotate(
        case_number=Subquery(CaseModel.objects.filter(pk=OuterRef("case_id")).values("number")[:1]),
        agency_name=Subquery(Agency.objects.filter(pk=OuterRef("agency_id")).values("name")[:1]),
    )


# --- Unusual access --------------------------------------------------------------------------------


def _reads(*, agency: Agency, since: datetime.datetime, until: datetime.datetime) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(case_reads_q(), case_id__in=agency_case_ids(agency=agency),
                                     at__gte=since, at__lt=until, actor__isnull=False)


def heavy_readers(*, agency: Agency, since: datetime.datetime, until: datetime.datetime,
                  min_cases: int = DEFAULT_MIN_CASES) -> list[dict]:
    """People who read at least `min_cases` of the agency's cases on which they never logged an action."""
    acted = Action.objects.filter(case_id=OuterRef("case_id"), actor_id=OuterRef("actor_id"))
    return list(
        _reads(agency=agency, since=since, until=until).exclude(Exists(acted))
        .values("actor_id", "actor_username")
        .annotate(cases=Count("case_id", distinct=True), reads=Count("seq"), first=Min("at"), last=Max("at"))
        .filter(cases__gte=min_cases).order_by("-cases", "actor_username")
    )


def off_hours_q() -> Q:
    holidays = PublicHoliday.objects.values("date")
    return (Q(local_hour__lt=WORKDAY_START_HOUR) | Q(local_hour__gte=WORKDAY_END_HOUR) | Q(local_weekday__gte=6)
            | Q(local_date__in=holidays))


def off_hours_reads(*, agency: Agency, since: datetime.datetime, until: datetime.datetime) -> QuerySet[AuditEvent]:
    """Reads of the agency's cases outside working hours, newest first."""
    return (
        _reads(agency=agency, since=since, until=until)
        .annotate(local_hour=ExtractHour("at", tzinfo=VIETNAM), local_weekday=ExtractIsoWeekDay("at", tzinfo=VIETNAM),
                  local_date=TruncDate("at", tzinfo=VIETNAM))
        .filter(off_hours_q())
        .annotate(case_number=Subquery(CaseModel.objects.filter(pk=OuterRef("case_id")).values("number")[:1]))
        .order_by("-seq")
    )


def off_hours_readers(*, agency: Agency, since: datetime.datetime, until: datetime.datetime) -> list[dict]:
    return list(
        off_hours_reads(agency=agency, since=since, until=until).order_by()
        .values("actor_id", "actor_username")
        .annotate(reads=Count("seq"), cases=Count("case_id", distinct=True), last=Max("at"))
        .order_by("-reads", "actor_username")
    )


def break_glass_in_period(*, agency: Agency, since: datetime.datetime,
                          until: datetime.datetime) -> QuerySet[BreakGlassUse]:
    return break_glass_uses_for_agency(agency=agency).filter(started_at__gte=since, started_at__lt=until)


@dataclass(frozen=True)
class UnusualAccess:
    since: datetime.datetime
    until: datetime.datetime
    min_cases: int
    heavy_readers: list
    off_hours_readers: list
    off_hours_reads: list
    break_glass: list
    # Personal-data breaches recorded for the agency (newest first); each off-hours read carries the
    # ids of the breaches that cite it (`breach_ids`).
    breaches: list


def unusual_access_report(*, agency: Agency, since: datetime.date | None = None, until: datetime.date | None = None,
                          min_cases: int = DEFAULT_MIN_CASES, limit: int = 100) -> UnusualAccess:
    """The agency's unusual-access report for [since, until] (Viet Nam days; the last 30 days by default)."""
    today = timezone.localdate(timezone=VIETNAM)
    until = until or today
    since = since or until - datetime.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    start, end = period_bounds(since, until)
    reads = list(off_hours_reads(agency=agency, since=start, until=end)[:limit])
    linked = breach_events_linked(agency=agency)
    for event in reads:
        event.breach_ids = linked.get(event.seq, [])
    return UnusualAccess(
        since=start, until=end, min_cases=min_cases,
        heavy_readers=heavy_readers(agency=agency, since=start, until=end, min_cases=min_cases),
        off_hours_readers=off_hours_readers(agency=agency, since=start, until=end),
        off_hours_reads=reads,
        break_glass=list(break_glass_in_period(agency=agency, since=start, until=end)[:limit]),
        breaches=list(Breach.objects.filter(affected_agencies=agency).order_by("-recorded_at", "-id")[:limit]),
    )


# --- CSV -----------------------------------------------------------------------------------------


def csv_safe(value) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


ACCESS_CSV_HEADER = ("time", "case_number", "actor", "agency", "action", "categories", "target", "reason", "ip")


class _Echo:
    def write(self, value: str) -> str:
        return value


def access_log_csv_rows(events: Iterable[AuditEvent]) -> Iterator[str]:
    """The CSV lines of the events, header first, every cell made formula-safe. The file starts with
    a UTF-8 byte-order mark: without it Excel reads the file as the local code page and garbles
    Vietnamese names and reasons."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(ACCESS_CSV_HEADER)
    for event in events:
        yield writer.writerow([csv_safe(cell) for cell in (
            timezone.localtime(event.at, VIETNAM).isoformat(timespec="seconds"), event.case_number,
            event.actor_username, event.agency_name, event.action, ",".join(event.categories or []), event.target,
            event.reason, event.ip,
        )])
