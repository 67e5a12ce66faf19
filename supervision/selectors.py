"""Reads for supervisors: which agency a supervisor answers for, and the handoff register.

Every figure is computed by the database (annotations, aggregates, subqueries), never by looping
over handoffs or cases in Python. Durations run from the moment a handoff was sent: time to first
view, to the answer (accept or decline), to the receiving agency's first action on the case after
accepting (by the time the action happened), and to completion.
"""

import datetime
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connections, router
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    CharField,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from agencies.models import Agency
from agencies.selectors import supervised_agencies
from audit.models import AuditAction, AuditEvent
from cases.models import Action, CaseStatus
from cases.models import Case as CaseModel
from cases.selectors import case_seen_by_agency
from config.compiled import CompiledQuery
from config.exceptions import NotFound
from encryption import crypto
from handoffs.models import DECLINED_WITH_KEY, Handoff, HandoffStatus
from notifications.calendar import VIETNAM

from .models import AgencyHandoffFigures, DeadlineState, HandoffReview

DEFAULT_HANDED_ON_MORE_THAN = 2
DEFAULT_IDLE_DAYS = 14
DEADLINE_STATES = tuple(DeadlineState.values)
SUMMARY_DURATIONS = ("to_view", "to_answer", "to_first_action", "to_completion")


# --- Which agency ----------------------------------------------------------------------------------


def supervised_agency_get(*, user: User, agency_id: int | None = None, agencies: list[Agency] | None = None) -> Agency:
    """The agency the supervisor works for now: the one asked for, or their first. PermissionDenied
    for anyone who supervises no agency, or asks for one they do not supervise."""
    agencies = supervised_agencies(user=user) if agencies is None else agencies
    if not agencies:
        raise PermissionDenied
    if agency_id is None:
        return agencies[0]
    for agency in agencies:
        if agency.pk == agency_id:
            return agency
    raise PermissionDenied


# --- The register ------------------------------------------------------------------------------------


def deadline_state_q(state: str, *, now: datetime.datetime) -> Q:
    """Was the response deadline met? Met: answered by the due time. Missed: answered late, or not
    answered by the due time (still waiting, or withdrawn after it). Open: still waiting, not yet
    due. Void: withdrawn unanswered before it was due."""
    if state == "met":
        return Q(responded_at__isnull=False, responded_at__lte=F("due_at"))
    if state == "missed":
        return (
            Q(responded_at__gt=F("due_at"))
            | Q(responded_at__isnull=True, withdrawn_at__gt=F("due_at"))
            | Q(responded_at__isnull=True, withdrawn_at__isnull=True, due_at__lt=now)
        )
    if state == "open":
        return Q(responded_at__isnull=True, withdrawn_at__isnull=True, due_at__gte=now)
    if state == "void":
        return Q(responded_at__isnull=True, withdrawn_at__isnull=False, withdrawn_at__lte=F("due_at"))
    raise ValueError(f"unknown deadline state {state!r}")


def overdue_q(*, now: datetime.datetime) -> Q:
    """Waiting for an answer past its due time."""
    return Q(status=HandoffStatus.SENT, due_at__lt=now)


def local_day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=VIETNAM)


@dataclass(frozen=True)
class RegisterFilters:
    direction: str | None = None  # "sent" or "received"
    statuses: tuple[str, ...] = ()
    urgency: str | None = None
    kind: str | None = None
    since: datetime.date | None = None  # sent on or after this day (Viet Nam)
    until: datetime.date | None = None  # sent on or before this day
    counterpart: int | None = None  # agency id
    sector: str | None = None  # the counterpart's sector
    overdue: bool = False
    deadline: str | None = None
    reviewed: bool | None = None
    extra: dict = field(default_factory=dict)


def handoff_register_base(*, agency: Agency) -> QuerySet[Handoff]:
    return Handoff.objects.filter(Q(from_agency=agency) | Q(to_agency=agency))


def handoff_register_filter(
    qs: QuerySet[Handoff], *, agency: Agency, filters: RegisterFilters, now: datetime.datetime
) -> QuerySet[Handoff]:
    if filters.direction == "sent":
        qs = qs.filter(from_agency=agency)
    elif filters.direction == "received":
        qs = qs.filter(to_agency=agency)
    if filters.statuses:
        qs = qs.filter(status__in=filters.statuses)
    if filters.urgency:
        qs = qs.filter(urgency=filters.urgency)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.since:
        qs = qs.filter(sent_at__gte=local_day_start(filters.since))
    if filters.until:
        qs = qs.filter(sent_at__lt=local_day_start(filters.until + datetime.timedelta(days=1)))
    if filters.counterpart:
        qs = qs.filter(Q(from_agency=agency, to_agency_id=filters.counterpart)
                       | Q(to_agency=agency, from_agency_id=filters.counterpart))
    if filters.sector:
        qs = qs.filter(Q(from_agency=agency, to_agency__sector=filters.sector)
                       | Q(to_agency=agency, from_agency__sector=filters.sector))
    if filters.overdue:
        qs = qs.filter(overdue_q(now=now))
    if filters.deadline:
        qs = qs.filter(deadline_state_q(filters.deadline, now=now))
    if filters.reviewed is not None:
        reviewed = Exists(HandoffReview.objects.filter(handoff=OuterRef("pk"), agency=agency))
        qs = qs.filter(reviewed) if filters.reviewed else qs.exclude(reviewed)
    return qs


def _since_sent(field_name: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(field_name) - F("sent_at"), output_field=DurationField())


def _first_action_at() -> Case:
    """The receiving agency's first action on the case at or after it accepted; none for a handoff
    that was never accepted."""
    first = (
        Action.objects.filter(case_id=OuterRef("case_id"), agency_id=OuterRef("to_agency_id"),
                              occurred_at__gte=OuterRef("responded_at"))
        .order_by("occurred_at", "id").values("occurred_at")[:1]
    )
    return Case(
        When(Q(responded_at__isnull=False) & ~Q(status=HandoffStatus.DECLINED), then=Subquery(first)),
        default=None, output_field=DateTimeField(),
    )


def _handoffs_of_case(*, agency: Agency) -> Case:
    """How often the handoff's case was handed on (withdrawn handoffs not counted): by every agency while
    `agency` sees the case (`case_seen`), by `agency` alone (sent or received) once it does not: an agency
    that lost the case (consent withdrawn or expired, referral declined or ended) learns nothing more of who
    else it goes to."""
    handed = (
        Handoff.objects.filter(case_id=OuterRef("case_id")).exclude(status=HandoffStatus.WITHDRAWN)
        .order_by().values("case_id").annotate(n=Count("id")).values("n")
    )
    own = handed.filter(Q(from_agency=agency) | Q(to_agency=agency))
    return Case(When(case_seen=True, then=Coalesce(Subquery(handed), 0)), default=Coalesce(Subquery(own), 0))


def handoff_register_annotate(qs: QuerySet[Handoff], *, agency: Agency, now: datetime.datetime) -> QuerySet[Handoff]:
    """Each handoff with its direction, durations, deadline state, whether the agency sees its case at `now`
    (`case_seen`), how often its case was handed on (_handoffs_of_case), and the agency's latest review
    verdict."""
    latest_review = HandoffReview.objects.filter(handoff=OuterRef("pk"), agency=agency).order_by("-at", "-id")
    # case__data_key: the reasons are opened with the case keys that come in this query.
    return qs.select_related("case", "case__data_key", "from_agency", "to_agency").annotate(
        case_seen=case_seen_by_agency(case_id=OuterRef("case_id"), agency_id=agency.pk, now=now),
    ).annotate(
        direction=Case(When(from_agency=agency, then=Value("sent")), default=Value("received"),
                       output_field=CharField()),
        first_action_at=_first_action_at(),
        to_view=_since_sent("viewed_at"),
        to_answer=_since_sent("responded_at"),
        to_first_action=_since_sent("first_action_at"),
        to_completion=_since_sent("completed_at"),
        deadline_state=Case(
            *(When(deadline_state_q(state, now=now), then=Value(state)) for state in DEADLINE_STATES),
            default=Value("open"), output_field=CharField(),
        ),
        overdue=Case(When(overdue_q(now=now), then=Value(True)), default=Value(False), output_field=BooleanField()),
        case_handoffs=_handoffs_of_case(agency=agency),
        review_verdict=Subquery(latest_review.values("verdict")[:1]),
        reviewed_at=Subquery(latest_review.values("at")[:1]),
    )


def handoff_register(*, agency: Agency, filters: RegisterFilters | None = None,
                     now: datetime.datetime | None = None) -> QuerySet[Handoff]:
    """The agency's handoffs, sent and received, filtered and annotated, newest first."""
    now = now or timezone.now()
    qs = handoff_register_filter(handoff_register_base(agency=agency), agency=agency,
                                 filters=filters or RegisterFilters(), now=now)
    return handoff_register_annotate(qs, agency=agency, now=now).order_by("-sent_at", "-id")


# --- The register as its page lists it, read lean -----------------------------------------------------

_STATUS_LABELS = dict(Handoff._meta.get_field("status").flatchoices)
_URGENCY_LABELS = dict(Handoff._meta.get_field("urgency").flatchoices)
_REGISTER_ROW_COLUMNS = (
    "id", "case__number", "status", "urgency", "deadline_state", "overdue", "emergency_override", "review_verdict",
    "direction", "to_agency__name", "from_agency__name", "sent_at", "due_at", "to_view", "to_answer",
    "to_first_action", "to_completion", "decline_reason", "case_handoffs",
)


class RegisterRow:
    """A handoff as the register page shows it (supervision/register.html), read as one row of columns:
    no other field of the handoff is there to be shown. The decline reason is opened when first read."""

    __slots__ = ("pk", "case_number", "status", "urgency", "deadline_state", "overdue", "emergency_override",
                 "review_verdict", "direction", "counterpart", "sent_at", "due_at", "to_view", "to_answer",
                 "to_first_action", "to_completion", "_decline_reason", "case_handoffs")

    def __init__(self, row: tuple):
        (self.pk, self.case_number, self.status, self.urgency, self.deadline_state, self.overdue,
         self.emergency_override, self.review_verdict, self.direction, to_agency, from_agency, self.sent_at,
         self.due_at, self.to_view, self.to_answer, self.to_first_action, self.to_completion, self._decline_reason,
         self.case_handoffs) = row
        self.counterpart = to_agency if self.direction == "sent" else from_agency

    @property
    def decline_reason(self) -> str:
        self._decline_reason = _opened(self._decline_reason)
        return self._decline_reason

    def status_label(self) -> str:
        return str(_STATUS_LABELS.get(self.status, self.status))

    def urgency_label(self) -> str:
        return str(_URGENCY_LABELS.get(self.urgency, self.urgency))


# The unfiltered register's rows: handoff_register's queryset, compiled once (config.compiled), LIMIT and
# OFFSET added; its conditions and figures are those of the ORM's (a test compares the two).
_REGISTER_ROWS = CompiledQuery(
    lambda agency_id, now: handoff_register(agency=Agency(pk=agency_id), now=now).values_list(*_REGISTER_ROW_COLUMNS),
    agency_id="int", now="datetime")
REGISTER_FIRST_ROWS = 50


def _newest_sent_and_received(*, agency_id: int, n: int) -> QuerySet:
    """The ids of the agency's n newest handoffs sent and its n newest received: the register's n newest are
    among them (no handoff is both, constraint handoff_not_to_itself). Two reads of n index entries each
    (handoff_outgoing_order, handoff_incoming_order), not every handoff of the agency read and sorted."""
    newest = ("-sent_at", "-id")
    sent = Handoff.objects.filter(from_agency_id=agency_id).order_by(*newest).values("id")[:n]
    received = Handoff.objects.filter(to_agency_id=agency_id).order_by(*newest).values("id")[:n]
    return sent.union(received, all=True)


# The register page's first page (what the home shows): the same rows, found among those ids.
_REGISTER_FIRST = CompiledQuery(
    lambda agency_id, now: handoff_register(agency=Agency(pk=agency_id), now=now)
    .filter(pk__in=_newest_sent_and_received(agency_id=agency_id, n=REGISTER_FIRST_ROWS))
    .values_list(*_REGISTER_ROW_COLUMNS),
    agency_id="int", now="datetime")
_DECLINE_REASON = Handoff._meta.get_field("decline_reason")


class RegisterRows:
    """The register of `agency` as the page's Paginator reads it: `count` (known from the summary) and
    slices, each a list of RegisterRow. Unfiltered on PostgreSQL a slice is one compiled query; otherwise
    the ORM's values of handoff_register."""

    def __init__(self, *, agency: Agency, filters: RegisterFilters, now: datetime.datetime, count: int):
        self.agency, self.filters, self.now, self._count = agency, filters, now, count

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: slice) -> list[RegisterRow]:
        using = router.db_for_read(Handoff)
        if (self.filters == RegisterFilters() and connections[using].vendor == "postgresql"
                and index.step is None and index.stop is not None and 0 <= (index.start or 0) < index.stop):
            start = index.start or 0
            query = _REGISTER_FIRST if index.stop <= REGISTER_FIRST_ROWS else _REGISTER_ROWS
            rows = _reasons_as_read(
                query.rows(wrap="%s LIMIT %%s OFFSET %%s", extra=(index.stop - start, start), model=Handoff,
                           agency_id=self.agency.pk, now=self.now),
                _REGISTER_ROW_COLUMNS.index("decline_reason"), using)
        else:
            rows = handoff_register(agency=self.agency, filters=self.filters, now=self.now).values_list(
                *_REGISTER_ROW_COLUMNS)[index]
        return [RegisterRow(row) for row in rows]


def handoff_register_summary(*, agency: Agency, filters: RegisterFilters | None = None,
                             now: datetime.datetime | None = None) -> dict:
    """Counts by status and deadline state, and the mean and longest of each duration, in one query
    (unfiltered on PostgreSQL: the agency's figures kept by triggers and its waiting handoffs, _summary_sql)."""
    now, filters = now or timezone.now(), filters or RegisterFilters()
    using = router.db_for_read(Handoff)
    if filters == RegisterFilters() and connections[using].vendor == "postgresql":
        with connections[using].cursor() as cursor:
            cursor.execute(_SUMMARY_SQL, [now, now, now, agency.pk, agency.pk, agency.pk])
            return dict(zip(_SUMMARY_FIGURES, cursor.fetchone(), strict=True))
    return _summary_queryset(agency=agency, filters=filters, now=now).aggregate(**_summary_figures(now=now))


def _summary_queryset(*, agency: Agency, filters: RegisterFilters, now: datetime.datetime) -> QuerySet:
    # Only the durations are selected, in a subquery the figures are taken over: the receiver's first
    # action (a subquery per handoff) is then looked up once per handoff, not once for each of the
    # three figures that use it. distinct() is what makes Django aggregate over a subquery; it removes
    # nothing (the id is selected).
    columns = ("id", "status", "due_at", "responded_at", "withdrawn_at", *SUMMARY_DURATIONS)
    return handoff_register(agency=agency, filters=filters, now=now).order_by().values(*columns).distinct()


def _summary_figures(*, now: datetime.datetime) -> dict:
    figures = {"total": Count("id")}
    figures.update({f"status_{s}": Count("id", filter=Q(status=s)) for s in HandoffStatus.values})
    figures.update({f"deadline_{s}": Count("id", filter=deadline_state_q(s, now=now)) for s in DEADLINE_STATES})
    figures["overdue"] = Count("id", filter=overdue_q(now=now))
    for name in SUMMARY_DURATIONS:
        figures[f"{name}_avg"] = Avg(name)
        figures[f"{name}_max"] = Max(name)
        figures[f"{name}_count"] = Count(name)
    return figures


_SUMMARY_FIGURES = tuple(_summary_figures(now=datetime.datetime.now(tz=datetime.UTC)))


def _summary_sql() -> str:
    """The unfiltered register's figures of one agency (parameters: now three times, the agency id three
    times), in _summary_figures' order, without reading every handoff the agency ever sent or received:
    what is settled from its row of supervision.models.AgencyHandoffFigures (kept by triggers), what depends
    on the time of reading (open, missed while waiting, overdue) counted off its handoffs waiting for an
    answer (indexes handoff_outgoing_waiting and handoff_incoming_waiting: the condition below is theirs).
    The mean is the sum over the count, as PostgreSQL's avg of intervals computes it (the same value)."""
    waiting = "h.responded_at IS NULL AND h.withdrawn_at IS NULL"
    live = {"missed": f"{waiting} AND h.due_at < %s", "open": f"{waiting} AND h.due_at >= %s",
            "overdue": f"h.status = '{HandoffStatus.SENT}' AND h.due_at < %s"}
    columns = {name: f"COALESCE(t.{name}, 0)" for name in _SUMMARY_FIGURES}
    columns.update(deadline_missed="COALESCE(t.deadline_missed, 0) + w.missed", deadline_open="w.open",
                   overdue="w.overdue")
    for name in SUMMARY_DURATIONS:
        columns.update({f"{name}_avg": f"CASE WHEN t.{name}_count > 0 THEN t.{name}_sum / t.{name}_count END",
                        f"{name}_max": f"t.{name}_max"})
    counted = ", ".join(f"COUNT(*) FILTER (WHERE {condition}) AS {name}" for name, condition in live.items())
    # No input in these statements: the agency and the instant are parameters.
    side = (f"SELECT h.status, h.due_at, h.responded_at, h.withdrawn_at FROM cases_handoff h "  # noqa: S608
            f"WHERE h.{{side}} = %s AND (h.status = '{HandoffStatus.SENT}' OR ({waiting}))")
    return (
        f"SELECT {', '.join(columns[name] for name in _SUMMARY_FIGURES)} "  # noqa: S608
        f"FROM (SELECT {counted} FROM ({side.format(side='from_agency_id')} UNION ALL "
        f"{side.format(side='to_agency_id')}) h) w "
        f"LEFT JOIN {AgencyHandoffFigures._meta.db_table} t ON t.agency_id = %s"
    )


_SUMMARY_SQL = _summary_sql()


def decline_reasons(*, agency: Agency, filters: RegisterFilters | None = None,
                    now: datetime.datetime | None = None, limit: int = 20) -> list[dict]:
    """Decline reasons among the filtered handoffs, the most frequent first, then the most recently given
    (the same words count together): each with its count and latest answer, grouped and counted in SQL by
    the reason's key (handoffs.models.Handoff.decline_reason_key, encryption.crypto.reason_key), and shown
    with the words of its most recently declined handoff: only those `limit` reasons are opened. The reasons
    of anonymised cases have no key: they are not counted (nor could they be read)."""
    now, filters = now or timezone.now(), filters or RegisterFilters()
    using = router.db_for_read(Handoff)
    if filters == RegisterFilters() and connections[using].vendor == "postgresql":
        with connections[using].cursor() as cursor:
            cursor.execute(_DECLINE_REASONS_SQL, [agency.pk] * 4 + [limit])
            rows = _reasons_as_read(cursor.fetchall(), 0, using)
    else:
        groups = _decline_groups(agency=agency, filters=filters, now=now)[:limit]
        rows = [(group["reason"], group["count"], group["last"]) for group in groups]
    reasons = []
    for sealed, count, last in rows:
        reason = _opened(sealed)
        if reason:  # "": a key left on a handoff of a case anonymised since
            reasons.append({"decline_reason": reason, "count": count, "last": last})
    return reasons


def _declined(*, agency: Agency, filters: RegisterFilters, now: datetime.datetime) -> QuerySet:
    """The declined handoffs with a reason key among the filtered ones."""
    qs = handoff_register_filter(handoff_register_base(agency=agency), agency=agency, filters=filters, now=now)
    return qs.filter(DECLINED_WITH_KEY)


# A group's handoffs, its newest first (the order of indexes handoff_outgoing_declined and _incoming_declined).
_NEWEST_DECLINED = (F("responded_at").desc(nulls_first=True), F("id").desc())


def _decline_groups(*, agency: Agency, filters: RegisterFilters, now: datetime.datetime) -> QuerySet:
    """(key, count, last answer, reason of the newest handoff) of each reason among the filtered declined
    handoffs, in decline_reasons' order (ties by key)."""
    declined = _declined(agency=agency, filters=filters, now=now)
    newest = declined.filter(decline_reason_key=OuterRef("decline_reason_key")).order_by(*_NEWEST_DECLINED)
    return (
        declined.order_by().values("decline_reason_key")
        .annotate(count=Count("id"), last=Max("responded_at"), reason=Subquery(newest.values("decline_reason")[:1]))
        .order_by("-count", F("last").desc(nulls_last=True), "decline_reason_key")
    )


def _decline_reasons_sql() -> str:
    """decline_reasons of one agency's unfiltered register (parameters: the agency id 4 times, the limit): its
    sent and its received declined handoffs counted by reason key off indexes handoff_outgoing_declined and
    handoff_incoming_declined alone (their condition is the one below), and the sealed reason of each group's
    newest handoff (one probe of each index), in _decline_groups' order."""
    declined = f"h.status = '{HandoffStatus.DECLINED}' AND h.decline_reason_key IS NOT NULL"
    side = (f"SELECT h.decline_reason_key AS k, h.responded_at FROM cases_handoff h "  # noqa: S608
            f"WHERE h.{{side}} = %s AND {declined}")
    newest = (f"(SELECT h.decline_reason, h.responded_at, h.id FROM cases_handoff h "  # noqa: S608
              f"WHERE h.{{side}} = %s AND {declined} AND h.decline_reason_key = g.k "
              f"ORDER BY h.responded_at DESC NULLS FIRST, h.id DESC LIMIT 1)")
    order = "n DESC, last DESC NULLS LAST, k"
    return (
        f"SELECT (SELECT r.decline_reason FROM ({newest.format(side='from_agency_id')} UNION ALL "  # noqa: S608
        f"{newest.format(side='to_agency_id')}) r ORDER BY r.responded_at DESC NULLS FIRST, r.id DESC LIMIT 1), "
        f"g.n, g.last FROM (SELECT d.k, COUNT(*) AS n, MAX(d.responded_at) AS last "
        f"FROM ({side.format(side='from_agency_id')} UNION ALL {side.format(side='to_agency_id')}) d "
        f"GROUP BY d.k ORDER BY {order} LIMIT %s) g ORDER BY {order}"
    )


_DECLINE_REASONS_SQL = _decline_reasons_sql()


def _reasons_as_read(rows: list[tuple], index: int, using: str) -> list[tuple]:
    """Compiled rows with their decline reason (column `index`) as the ORM reads it: sealed, so that the
    keys of every reason read are fetched together when the first is opened."""
    connection = connections[using]
    return [(*row[:index], _DECLINE_REASON.from_db_value(row[index], None, connection), *row[index + 1:])
            for row in rows]


def _opened(value):
    """A decline reason as read, opened."""
    return crypto.unseal(value) if isinstance(value, crypto.Sealed) else value


def cases_handed_on(*, agency: Agency, more_than: int = DEFAULT_HANDED_ON_MORE_THAN,
                    now: datetime.datetime | None = None) -> QuerySet[CaseModel]:
    """Cases the agency sent or received a handoff of and sees at `now`, handed on more than `more_than`
    times in all (withdrawn handoffs not counted)."""
    # The agency's rows of supervision.models.CaseHandoffs (kept by triggers: one per case it sent or
    # received a handoff of, with the case's handoffs not withdrawn) read from their index (agency,
    # handoffs) from the most handed on down to `more_than`: the cost of the rows shown, where counting
    # the handoffs of every case of a busy agency's handoffs (21,000 cases at a million) cost 0.1 s.
    # The rows follow the handoffs only: whether the agency still sees the case (a consent withdrawn or
    # expired takes it away and leaves the handoff accepted) is asked of its access rows at the read, so
    # an agency that lost a case learns nothing more of it here (how often it moves on, who leads it).
    return (
        CaseModel.objects.filter(case_seen_by_agency(case_id=OuterRef("pk"), agency_id=agency.pk, now=now),
                                 handoff_tally__agency=agency, handoff_tally__handoffs__gt=more_than)
        .annotate(handoff_count=F("handoff_tally__handoffs"))
        .select_related("lead_agency")
        .order_by("-handoff_count", "number")
    )


def cases_without_action(*, agency: Agency, days: int = DEFAULT_IDLE_DAYS,
                         now: datetime.datetime | None = None) -> QuerySet[CaseModel]:
    """Open cases the agency works on (it leads them, or holds an accepted handoff of them) where
    the agency has logged no action for `days` days. The clock starts when the case was opened or
    the agency took it on, whichever is later."""
    now = now or timezone.now()
    return _cases_quiet_since(agency=agency, since=now - datetime.timedelta(days=days), now=now)


def _cases_quiet_since(*, agency: Agency, since: datetime.datetime, now: datetime.datetime) -> QuerySet[CaseModel]:
    # The agency's rows of supervision.models.CaseActivity (kept by triggers: one per open case it leads
    # or holds an accepted handoff of, with the later of its last action or acceptance and the opening)
    # read in the order of their index (agency, activity_at, case) and stopped at the page's LIMIT: the
    # cost of the rows shown, where reading every candidate case's actions and handoffs (3,700 cases of
    # a busy agency at a million cases) cost 0.4 s. The case's status is checked again on the case row
    # read for its number: a row of a case closed concurrently with a handoff's change is never shown.
    # The rows follow the handoffs only (an accepted handoff keeps its row when the consent it relied on is
    # withdrawn or expires): only cases the agency sees at `now` are listed (its access rows, read here), so
    # a case it lost neither stays on the list nor leaves it when the lead closes it.
    return (
        CaseModel.objects.filter(case_seen_by_agency(case_id=OuterRef("pk"), agency_id=agency.pk, now=now),
                                 activity__agency=agency, activity__activity_at__lt=since)
        .exclude(status=CaseStatus.CLOSED)
        .annotate(last_activity_at=F("activity__activity_at"), last_action_at=F("activity__last_action_at"))
        .select_related("lead_agency")
        .order_by("last_activity_at", "id")
    )


# --- One handoff ---------------------------------------------------------------------------------------


def handoff_get_for_supervisor(*, user: User, handoff_id: int, agencies: list[Agency],
                               agency_id: int | None = None) -> tuple[Handoff, Agency]:
    """The annotated handoff and the supervised agency on its side (the one asked for when the user
    supervises both). NotFound for a handoff of no agency the user supervises."""
    if not agencies:
        raise PermissionDenied
    ids = {a.pk for a in agencies}
    handoff = Handoff.objects.filter(pk=handoff_id).values("from_agency_id", "to_agency_id").first()
    sides = [] if handoff is None else [i for i in (handoff["from_agency_id"], handoff["to_agency_id"]) if i in ids]
    if not sides:
        raise NotFound
    side = agency_id if agency_id in sides else sides[0]
    agency = next(a for a in agencies if a.pk == side)
    row = handoff_register(agency=agency).filter(pk=handoff_id).first()
    return row, agency


@dataclass(frozen=True)
class Milestone:
    at: datetime.datetime
    key: str
    who: str = ""
    agency: str = ""
    note: str = ""


def _person(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def reviews_shown_to(reviews: QuerySet, *, agency: Agency, case_id: int,
                     now: datetime.datetime | None = None) -> QuerySet:
    """Reviews of a subject about case `case_id` as the supervisors of `agency` read them, each with
    `comment_shown`: the agency's own reviews' comments always, the other side's (the other agency of a
    handoff, the lead or another agency of a break-glass user) only while the agency sees the case at `now`.
    A comment is sealed case text, typed by someone who reads the case, possibly after the agency lost it
    (consent withdrawn or expired, handoff ended); verdict, reviewer and time stay shown. No query of its
    own: one EXISTS in the reviews' query."""
    sees = case_seen_by_agency(case_id=case_id, agency_id=agency.pk, now=now)
    return reviews.annotate(comment_shown=ExpressionWrapper(Q(agency_id=agency.pk) | Q(sees),
                                                            output_field=BooleanField()))


def handoff_milestones(*, handoff: Handoff, agency: Agency, now: datetime.datetime | None = None) -> list[Milestone]:
    """The handoff's own timeline from its timestamps, the receiver's first action and the reviews (the
    other side's comments as reviews_shown_to lets `agency` read them), oldest first. `handoff` comes from
    handoff_register (it carries first_action_at)."""
    sender, receiver = handoff.from_agency.name, handoff.to_agency.name
    people = {u.pk: u for u in get_user_model().objects.filter(
        pk__in=[i for i in (handoff.sent_by_id, handoff.viewed_by_id, handoff.responded_by_id, handoff.closed_by_id)
                if i])}
    rows = [Milestone(handoff.sent_at, "sent", _person(people.get(handoff.sent_by_id)), sender)]
    if handoff.viewed_at:
        rows.append(Milestone(handoff.viewed_at, "viewed", _person(people.get(handoff.viewed_by_id)), receiver))
    if handoff.responded_at:
        key = "declined" if handoff.status == HandoffStatus.DECLINED else "accepted"
        rows.append(Milestone(handoff.responded_at, key, _person(people.get(handoff.responded_by_id)), receiver,
                              handoff.decline_reason if key == "declined" else ""))
    if handoff.first_action_at:
        action = (Action.objects.filter(case_id=handoff.case_id, agency_id=handoff.to_agency_id,
                                        occurred_at=handoff.first_action_at).select_related("actor").first())
        rows.append(Milestone(handoff.first_action_at, "first_action", _person(action.actor if action else None),
                              receiver, action.get_type_display() if action else ""))
    if handoff.completed_at:
        rows.append(Milestone(handoff.completed_at, "completed", _person(people.get(handoff.closed_by_id)), receiver))
    if handoff.withdrawn_at:
        rows.append(Milestone(handoff.withdrawn_at, "withdrawn", _person(people.get(handoff.closed_by_id)), sender,
                              handoff.withdraw_reason))
    reviews = reviews_shown_to(HandoffReview.objects.filter(handoff=handoff), agency=agency, case_id=handoff.case_id,
                               now=now)
    for review in reviews.select_related("reviewer", "agency"):
        rows.append(Milestone(review.at, f"review_{review.verdict}", _person(review.reviewer), review.agency.name,
                              review.comment if review.comment_shown else ""))
    return sorted(rows, key=lambda m: m.at)


def case_readers(*, case_id: int, agency: Agency, lead: bool, limit: int = 100) -> list[AuditEvent]:
    """Who read or changed the case, newest first: everyone when the agency leads the case, only the
    agency's own staff otherwise (supervisors answer for their own people)."""
    qs = AuditEvent.objects.filter(case_id=case_id).exclude(action__in=[AuditAction.LIST])
    if not lead:
        qs = qs.filter(agency_id=agency.pk)
    events = list(qs.order_by("-seq")[:limit])
    names = dict(Agency.objects.filter(pk__in={e.agency_id for e in events if e.agency_id}).values_list("pk", "name"))
    for event in events:
        event.agency_name = names.get(event.agency_id, "")
    return events


# --- The home page's lists, read lean ---------------------------------------------------------------
# Each list as its selector's queryset builds it, compiled once (config.compiled): the columns the page
# shows, its first LIST_LIMIT rows.

LIST_LIMIT = 50
_HANDED_ON_COLUMNS = ("id", "number", "handoff_count", "lead_agency__name")
_QUIET_COLUMNS = ("id", "number", "last_activity_at")
_HANDED_ON_ROWS = CompiledQuery(
    lambda agency_id, more_than, now: cases_handed_on(agency=Agency(pk=agency_id), more_than=more_than, now=now)
    .values_list(*_HANDED_ON_COLUMNS)[:LIST_LIMIT],
    agency_id="int", more_than="int32", now="datetime")
_QUIET_ROWS = CompiledQuery(
    lambda agency_id, since, now: _cases_quiet_since(agency=Agency(pk=agency_id), since=since, now=now)
    .values_list(*_QUIET_COLUMNS)[:LIST_LIMIT],
    agency_id="int", since="datetime", now="datetime")


# The agencies one sent handoffs to (`sent`) and received them from (`received`): each the least one past the
# last found, one probe of the handoff table's (agency, counterpart) index each. Parameters: the agency id, 4 times.
_COUNTERPARTS_SQL = """
WITH RECURSIVE
sent(id) AS (
    SELECT MIN(h.to_agency_id) FROM cases_handoff h WHERE h.from_agency_id = %s
    UNION ALL
    SELECT (SELECT MIN(h.to_agency_id) FROM cases_handoff h WHERE h.from_agency_id = %s AND h.to_agency_id > sent.id)
    FROM sent WHERE sent.id IS NOT NULL),
received(id) AS (
    SELECT MIN(h.from_agency_id) FROM cases_handoff h WHERE h.to_agency_id = %s
    UNION ALL
    SELECT (SELECT MIN(h.from_agency_id) FROM cases_handoff h WHERE h.to_agency_id = %s
                                                               AND h.from_agency_id > received.id)
    FROM received WHERE received.id IS NOT NULL)
SELECT a.id, a.name FROM agencies_agency a WHERE a.id IN (SELECT id FROM sent UNION SELECT id FROM received)
ORDER BY a.name, a.id
"""


def cases_handed_on_rows(*, agency: Agency, more_than: int = DEFAULT_HANDED_ON_MORE_THAN,
                         now: datetime.datetime | None = None) -> list[tuple]:
    """The first LIST_LIMIT of cases_handed_on as (id, number, handoff count, lead agency's name)."""
    return _HANDED_ON_ROWS.rows(model=CaseModel, agency_id=agency.pk, more_than=more_than,
                                now=now or timezone.now())


def cases_without_action_rows(*, agency: Agency, days: int = DEFAULT_IDLE_DAYS,
                              now: datetime.datetime | None = None) -> list[tuple]:
    """The first LIST_LIMIT of cases_without_action as (id, number, last activity)."""
    now = now or timezone.now()
    return _QUIET_ROWS.rows(model=CaseModel, agency_id=agency.pk, since=now - datetime.timedelta(days=days), now=now)


def counterpart_agencies(*, agency: Agency) -> list[tuple[int, str]]:
    """(id, name) of the agencies this one has sent handoffs to or received them from, by name: each
    counterpart found by one probe of the handoff table's (agency, counterpart) indexes, not every handoff
    of the agency read (20 ms for a busy agency at a million cases), nor a DISTINCT over a join of every
    handoff of the country (66 s)."""
    with connections[router.db_for_read(Handoff)].cursor() as cursor:
        cursor.execute(_COUNTERPARTS_SQL, [agency.pk] * 4)
        return [tuple(row) for row in cursor.fetchall()]
