"""Indicators of how agencies work together: referrals, deadlines and content takedown requests.

Registered in reports.indicators' table registry like every other table (one GROUP BY each), plus
the one statistic that is not a count, the median time to accept a referral. Counting rules (they
are the definitions the report's readers get):

* Referrals: handoffs of kind referral *sent* in the month (Asia/Ho_Chi_Minh), of cases with
  statistics consent, in the case's province. Their response is as known when the report is built:
  accepted (answered and not declined; a referral accepted and later completed or withdrawn stays
  accepted), declined, withdrawn before any answer, or still awaiting an answer.
* Accepted within the deadline: answered at or before the response deadline the referral was sent
  with (responded_at <= due_at; exactly at the deadline counts as within).
* Median time to accept: from sending to acceptance, over the accepted referrals of the month,
  in hours (one decimal), in the database (PostgreSQL: percentile_cont(0.5); other databases: the
  middle row(s) picked by window functions, see `_window_medians`). Published only where the count
  of accepted referrals behind it is itself published as a number, so that it never tells more than
  the tables do about a hidden count.
* Sector of referrals: the sending and the receiving agency's sector (police, health, education,
  social work, other); never an agency.
* Deadlines missed: notifications.Deadline rows whose due time fell in the month, of every kind,
  counted in the province of the agency that owed them (the agency accountable for them); missed =
  not closed by the due time (closed later, or still open: the deadline reached the overdue stage),
  met = closed at or before it. Deadlines of cases without statistics consent are left out;
  deadlines about no case count.
* Takedown requests: actions of type takedown_requested in the month (as actions_by_sector counts
  them), by the platform and the outcome recorded on their takedowns.TakedownRequest as known when the
  report is built; requests logged as a plain action, without a request record, are "not recorded".
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db import connections
from django.db.models import Aggregate, Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Value, When
from django.db.models import Case as SqlCase
from django.db.models.expressions import Window
from django.db.models.functions import Coalesce, RowNumber
from django.db.models.query import QuerySet

from cases.models import ActionType, Case
from handoffs.models import Handoff, HandoffKind, HandoffStatus, Urgency
from notifications.models import Deadline
from takedowns.models import TakedownOutcome, TakedownPlatform

from .indicators import NATIONAL, SECTOR_GROUPS, Month, _sector_group, counted, province_source

URGENCIES = tuple(Urgency.values)
REFERRAL_RESPONSES = ("accepted", "declined", "withdrawn", "awaiting")
ACCEPT_TIMELINESS = ("within_deadline", "after_deadline")
DEADLINE_KINDS = tuple(Deadline.Kind.values)
DEADLINE_OUTCOMES = ("met", "missed")
NOT_RECORDED = "not_recorded"
TAKEDOWN_OUTCOMES = (*TakedownOutcome.values, NOT_RECORDED)
TAKEDOWN_PLATFORMS = (*TakedownPlatform.values, NOT_RECORDED)
ALL = "all"


def referrals_sent(month: Month):
    start, end = month.bounds
    return Handoff.objects.filter(
        month.consent.q("case__"), kind=HandoffKind.REFERRAL, sent_at__gte=start, sent_at__lt=end,
    )


def _accepted() -> Q:
    return Q(responded_at__isnull=False) & ~Q(status=HandoffStatus.DECLINED)


def deadlines_due(month: Month):
    start, end = month.bounds
    unconsented = Case.objects.filter(~month.consent.q(), pk=OuterRef("case_id"))
    return Deadline.objects.filter(due_at__gte=start, due_at__lt=end).exclude(Exists(unconsented))


def takedown_actions(month: Month):
    return month.actions().filter(type=ActionType.TAKEDOWN_REQUESTED)


province_source(lambda month: referrals_sent(month).values_list("case__province_id", flat=True))
province_source(lambda month: deadlines_due(month).values_list("owner_agency__province_id", flat=True))


@counted("referrals_by_response", fields=("case__province__code", "response", "urgency"), population="referrals",
         row_dim="referral_response", rows=REFERRAL_RESPONSES, col_dims=("urgency",),
         columns=[(u,) for u in URGENCIES])
def referrals_by_response(month: Month) -> QuerySet:
    return referrals_sent(month).annotate(response=SqlCase(
        When(status=HandoffStatus.DECLINED, then=Value("declined")),
        When(responded_at__isnull=False, then=Value("accepted")),
        When(status=HandoffStatus.WITHDRAWN, then=Value("withdrawn")),
        default=Value("awaiting"),
    ))


@counted("referrals_accepted_in_time", fields=("case__province__code", "timeliness", "urgency"),
         population="referrals", row_dim="accept_timeliness", rows=ACCEPT_TIMELINESS, col_dims=("urgency",),
         columns=[(u,) for u in URGENCIES], fixed=(("referral_response", "accepted"),))
def referrals_accepted_in_time(month: Month) -> QuerySet:
    """The accepted row of referrals_by_response, split by the response deadline: its column
    totals and total are the same counts, and disclosure control treats them as such."""
    return referrals_sent(month).filter(_accepted()).annotate(timeliness=SqlCase(
        When(responded_at__lte=F("due_at"), then=Value("within_deadline")), default=Value("after_deadline")
    ))


@counted("referrals_by_sector", fields=("case__province__code", "sending", "receiving"), population="referrals",
         row_dim="sending_sector", rows=SECTOR_GROUPS, col_dims=("receiving_sector",),
         columns=[(s,) for s in SECTOR_GROUPS])
def referrals_by_sector(month: Month) -> QuerySet:
    return referrals_sent(month).annotate(
        sending=_sector_group("from_agency__sector"), receiving=_sector_group("to_agency__sector")
    )


@counted("deadlines_missed", fields=("owner_agency__province__code", "kind", "outcome"), population="deadlines_due",
         row_dim="deadline_kind", rows=DEADLINE_KINDS, col_dims=("deadline_outcome",),
         columns=[(o,) for o in DEADLINE_OUTCOMES])
def deadlines_missed(month: Month) -> QuerySet:
    return deadlines_due(month).annotate(outcome=SqlCase(
        When(closed_at__isnull=False, closed_at__lte=F("due_at"), then=Value("met")), default=Value("missed")
    ))


@counted("takedown_requests", fields=("case__province__code", "outcome", "platform"), population="actions",
         row_dim="takedown_outcome", rows=TAKEDOWN_OUTCOMES, col_dims=("platform",),
         columns=[(p,) for p in TAKEDOWN_PLATFORMS], fixed=(("action_type", ActionType.TAKEDOWN_REQUESTED.value),))
def takedown_requests(month: Month) -> QuerySet:
    """The takedown_requested column of actions_by_sector, by outcome and platform: its total is
    the same count."""
    return takedown_actions(month).annotate(
        outcome=Coalesce(F("takedown_request__outcome"), Value(NOT_RECORDED)),
        platform=Coalesce(F("takedown_request__platform"), Value(NOT_RECORDED)),
    )


# --- Statistics that are not counts --------------------------------------------------------------


@dataclass
class StatisticDraft:
    """Values of one statistic for one scope, before publication. Each row's value stands on a
    count of a published table (`basis`: table key, row, column or None for the row total); the
    value is published only where that count is."""

    key: str
    unit: str
    row_dim: str
    rows: list[str]
    values: list[float | None]
    basis: list[tuple[str, str, tuple[str, ...] | None]]
    scope: str | None


class _PercentileMedian(Aggregate):
    """PostgreSQL's continuous median; over an interval it is an interval."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _percentile_medians(queryset, wait, fields: tuple[str, ...]) -> dict[tuple, datetime.timedelta]:
    if not fields:
        value = queryset.aggregate(median=_PercentileMedian(wait))["median"]
        return {} if value is None else {(): value}
    rows = queryset.values(*fields).annotate(median=_PercentileMedian(wait)).order_by()
    return {tuple(row[f] for f in fields): row["median"] for row in rows}


def _window_medians(queryset, wait, fields: tuple[str, ...]) -> dict[tuple, datetime.timedelta]:
    """The median without a median function: number the rows of each group in order of the value
    (ROW_NUMBER) beside the group's size (COUNT OVER), keep the middle one (odd size) or two (even
    size), and average those in Python: at most two rows per group leave the database."""
    partition = [F(f) for f in fields] or None
    middle = (
        queryset.annotate(wait=wait)
        .annotate(
            position=Window(RowNumber(), partition_by=partition, order_by=[F("wait").asc(), F("pk").asc()]),
            size=Window(Count("pk"), partition_by=partition),
        )
        .filter(Q(position=(F("size") + 1) / 2) | Q(position=F("size") / 2 + 1))
    )
    values: dict[tuple, list[datetime.timedelta]] = defaultdict(list)
    for row in middle.values(*fields, "wait"):
        values[tuple(row[f] for f in fields)].append(row["wait"])
    return {key: sum(waits, datetime.timedelta()) / len(waits) for key, waits in values.items()}


def grouped_medians(queryset, wait, fields: tuple[str, ...]) -> dict[tuple, datetime.timedelta]:
    """Median of `wait` per group of `fields` (none: over everything), computed in the database."""
    if connections[queryset.db].vendor == "postgresql":
        return _percentile_medians(queryset, wait, fields)
    return _window_medians(queryset, wait, fields)


def _hours(value: datetime.timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 1)


def median_time_to_accept(month: Month) -> dict[str | None, StatisticDraft]:
    """Hours from sending to acceptance, per urgency and over all, for every scope: four queries
    (province × urgency, province, urgency, everything), whatever the number of referrals."""
    accepted = referrals_sent(month).filter(_accepted())
    wait = ExpressionWrapper(F("responded_at") - F("sent_at"), output_field=DurationField())
    province = "case__province__code"
    medians: dict[tuple, datetime.timedelta] = {}
    for (code, urgency), value in grouped_medians(accepted, wait, (province, "urgency")).items():
        medians[(code, urgency)] = value
    for (code,), value in grouped_medians(accepted, wait, (province,)).items():
        medians[(code, ALL)] = value
    for (urgency,), value in grouped_medians(accepted, wait, ("urgency",)).items():
        medians[(NATIONAL, urgency)] = value
    for _key, value in grouped_medians(accepted, wait, ()).items():
        medians[(NATIONAL, ALL)] = value
    rows = [ALL, *URGENCIES]
    basis = [("referrals_by_response", "accepted", None)] + [
        ("referrals_by_response", "accepted", (u,)) for u in URGENCIES
    ]
    return {
        scope: StatisticDraft(
            key="median_time_to_accept", unit="hours", row_dim="urgency_or_all", rows=rows,
            values=[_hours(medians.get((scope, row))) for row in rows], basis=basis, scope=scope,
        )
        for scope in month.scopes
    }


STATISTICS = {"median_time_to_accept": median_time_to_accept}


def month_statistics(month: Month) -> dict[str | None, list[StatisticDraft]]:
    by_scope: dict[str | None, list[StatisticDraft]] = {scope: [] for scope in month.scopes}
    for function in STATISTICS.values():
        for scope, draft in function(month).items():
            by_scope[scope].append(draft)
    return by_scope
