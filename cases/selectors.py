"""Reads of cases for a user. Every view and API view gets its case through `case_get_for_user`,
so that access is decided in one place."""

import copy
import datetime
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connections, router
from django.db.models import (
    Aggregate,
    CharField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.encoding import force_str

from agencies.acting import ActingAgencyRequired, acting_agency_pick
from agencies.models import Agency, Membership
from config.compiled import CompiledModels, CompiledQuery
from config.exceptions import NotFound, row_id_or_not_found
from config.rendering import active_language
from encryption import crypto
from permissions.access import VIEW_BIT, codenames_from_masks
from permissions.categories import GENERAL, CaseRight, categories_from_codenames
from permissions.policy import CASE_ROLES
from permissions.readers import case_reader_condition, user_may_be_case_reader

from .models import (
    CASE_STATUS_MACHINE,
    Action,
    Case,
    CaseAccessRow,
    Consent,
    Incident,
    IncidentTechForm,
)


@dataclass(frozen=True)
class CaseAccess:
    """What one user may do on one case. `agency` is the agency they act for on it (None for
    break-glass, which only reads, and for a person of several agencies who has not chosen one:
    `must_choose_agency`). `rights` beyond viewing are the acting agency's; `categories` are read
    with the union of the user's agencies, `writable_categories` are the acting agency's."""

    case: Case
    agency: Agency | None
    rights: frozenset[str]
    categories: frozenset[str]
    writable_categories: frozenset[str] | None = None
    must_choose_agency: bool = False
    # Reads that several panels of one page share, made once for this access (one request): see
    # deadlines.selectors.case_deadlines_shown. Not part of what the access is.
    shared_reads: dict = field(default_factory=dict, compare=False, repr=False)

    def can(self, right: str) -> bool:
        return right in self.rights

    def sees(self, category: str) -> bool:
        return category == GENERAL or category in self.categories

    def acting_agency(self) -> Agency:
        """The agency a write is made for; ActingAgencyRequired (400) when the person must choose
        it first, PermissionDenied when they may only read (break-glass, or acting for an agency
        that is not on this case)."""
        if self.must_choose_agency:
            raise ActingAgencyRequired
        if self.agency is None:
            raise PermissionDenied
        return self.agency

    def may_change_status(self, right: str) -> bool:
        """Whether a status change needing `right` is the viewer's: every change needs change_case,
        closing and reopening close_case too (CASE_STATUS_MACHINE)."""
        return self.can(CaseRight.CHANGE) and self.can(right)

    def next_statuses(self, case: Case | None = None) -> list[str]:
        """The statuses the viewer may move the case (this one, or its fresher copy) to now, in the
        order of CaseStatus: what the case page offers, what the API lists, what
        case_change_status allows."""
        case = case or self.case
        reachable = {target for action in CASE_STATUS_MACHINE.available(case, may=self.may_change_status)
                     for target in CASE_STATUS_MACHINE[action].targets}
        return [state for state in CASE_STATUS_MACHINE.states if state in reachable]

    def writes(self, category: str) -> bool:
        """Whether data of this category may be recorded on behalf of the acting agency."""
        if self.writable_categories is None:
            return self.sees(category)
        return category == GENERAL or category in self.writable_categories


# Marks the membership rows in case_get_for_user's one query; no permission has this codename.
_MEMBER = ":member"
# Marks the membership rows in that query's bits: no access row has it (rights are 5 bits).
_MEMBER_BITS = -1
_WRITE_RIGHTS = frozenset(CaseRight.values) - {CaseRight.VIEW}


def _case_access(case: Case, rows: set[tuple[str, int | None]]) -> CaseAccess:
    """The access of one user from the rows of case_get_for_user: (codename, agency id or None)
    for each held right, and (_MEMBER, agency id) for each agency the user works on cases for.
    Reading takes the union of every source; writing, the agency the user acts for
    (agencies.acting): a one-agency person acts for theirs, a person of several for the one chosen."""
    member_ids = {agency_id for codename, agency_id in rows if codename == _MEMBER}
    held = {(codename, agency_id) for codename, agency_id in rows if codename != _MEMBER}
    codenames = {codename for codename, _ in held}
    if CaseRight.VIEW not in codenames:
        raise NotFound
    categories = categories_from_codenames(codenames)
    acting_id = acting_agency_pick(member_agency_ids=member_ids)
    if acting_id is None and len(member_ids) > 1:
        # A write will ask the person to choose; pages still offer what one of their agencies may do.
        rights = frozenset(c for c in codenames if c in CaseRight.values)
        return CaseAccess(case=case, agency=None, rights=rights, categories=categories, must_choose_agency=True)
    acting_codenames = {codename for codename, agency_id in held if agency_id == acting_id and acting_id is not None}
    if not acting_codenames:
        # Break-glass, or an acting agency that is not on this case: reading only.
        return CaseAccess(case=case, agency=None, rights=frozenset({CaseRight.VIEW}), categories=categories,
                          writable_categories=frozenset())
    agency = case.lead_agency if case.lead_agency_id == acting_id else Agency.objects.get(pk=acting_id)
    rights = frozenset({CaseRight.VIEW} | {c for c in acting_codenames if c in _WRITE_RIGHTS})
    return CaseAccess(case=case, agency=agency, rights=rights, categories=categories,
                      writable_categories=categories_from_codenames(acting_codenames))


def _in_force(now: datetime.datetime, prefix: str = "") -> Q:
    """A row counts over [valid_from, valid_until): an expiry takes effect at its instant."""
    return (Q(**{f"{prefix}valid_from__isnull": True}) | Q(**{f"{prefix}valid_from__lte": now})) & (
        Q(**{f"{prefix}valid_until__isnull": True}) | Q(**{f"{prefix}valid_until__gt": now})
    )


def viewing_rows(*, now: datetime.datetime | None = None) -> QuerySet[CaseAccessRow]:
    """The access rows in force with the view right: a holder (an agency, or a user by break-glass) sees a
    case now through one of them; the caller filters by case and holder."""
    return CaseAccessRow.objects.filter(_in_force(now or timezone.now()), GreaterThan(F("rights").bitand(VIEW_BIT), 0))


def case_seen_by_agency(*, case_id, agency_id, now: datetime.datetime | None = None) -> Exists:
    """EXISTS: the agency sees the case at `now` (an access row in force with the view right; a user's
    break-glass row is no agency's). The case and the agency are values or expressions of the query it is
    put in (OuterRef): the condition that rows about a case shown to an agency carry (notifications.sight,
    registered in cases.apps)."""
    return Exists(viewing_rows(now=now).filter(case_id=case_id, agency_id=agency_id))


def _case_agency_ids(user: User):
    """The agencies whose rows count for the user: memberships are the source (a responder or
    supervisor membership of an active agency), never the auth groups."""
    return Membership.objects.filter(user=user, role__in=CASE_ROLES, agency__active=True).order_by().values("agency_id")


# The agency id that stands for the user's own (break-glass) rows among the holders; no agency has it.
_OWN_ROWS = 0


def _holders_queryset(user: User, now) -> QuerySet:
    agencies = (Membership.objects.filter(case_reader_condition(user), user=user, role__in=CASE_ROLES,
                                          agency__active=True).order_by().values_list("agency_id", flat=True))
    own = (CaseAccessRow.objects.filter(_in_force(now), case_reader_condition(user), user=user).order_by()
           .annotate(holder=Value(_OWN_ROWS, output_field=IntegerField())).values_list("holder", flat=True))
    return agencies.union(own)


# Compiled once (config.compiled): building and compiling this UNION of EXISTS conditions cost every
# list request more Python than the rest of its queries together.
_HOLDERS = CompiledQuery(lambda user_id, now: _holders_queryset(User(pk=user_id), now), user_id="int", now="datetime")


def _holders(user: User, now) -> set[int]:
    """One query: the agencies whose rows count for a case reader, and _OWN_ROWS when the user
    holds break-glass rows in force. Empty for anyone who never reads cases."""
    return {holder for (holder,) in _HOLDERS.rows(model=Membership, user_id=user.pk, now=now)}


def _no_cases() -> QuerySet[Case]:
    return Case.objects.none().annotate(sort_at=F("updated_at")).order_by("-sort_at", "-id")


def case_list_visible_to(*, user: User) -> QuerySet[Case]:
    """Cases the user may see, newest first (by `sort_at`, the case's updated_at): read from the
    access rows of the user's agencies and the user's own time-limited (break-glass) rows. No case
    for anonymous users nor for anyone who never reads cases (permissions.readers).

    One query to learn the holders; then, for a person of one agency (almost everyone), the list
    is an index scan of that agency's rows in sort order (CaseAccessRow's index) stopped at the
    page's LIMIT, whatever the size of the country. With several holders, one EXISTS over them."""
    if not user_may_be_case_reader(user):
        return _no_cases()
    now = timezone.now()
    holders = _holders(user, now)
    if not holders:
        return _no_cases()
    # What a list shows: no survivor, no case text (nothing to decrypt).
    return _visible_queryset(user, holders, now)


def _visible_queryset(user: User | None, holders: set[int], now) -> QuerySet[Case]:
    related = ("province", "lead_agency")
    if len(holders) == 1:
        (holder,) = holders
        own = {"access_rows__user": user} if holder == _OWN_ROWS else {"access_rows__agency_id": holder}
        # One filter() call: the holder, the view bit and the validity are conditions on the same row.
        rows = Case.objects.filter(
            GreaterThan(F("access_rows__rights").bitand(VIEW_BIT), 0), _in_force(now, "access_rows__"), **own,
        )
        return rows.annotate(sort_at=F("access_rows__case_updated_at")).select_related(*related).defer(
            "close_reason").order_by("-sort_at", "-id")
    agencies = [h for h in holders if h != _OWN_ROWS]
    holder_condition = Q(agency_id__in=agencies) | Q(user=user) if _OWN_ROWS in holders else Q(agency_id__in=agencies)
    rows_of_case = CaseAccessRow.objects.filter(
        holder_condition, _in_force(now), GreaterThan(F("rights").bitand(VIEW_BIT), 0), case=OuterRef("pk"),
    )
    return (
        Case.objects.filter(Exists(rows_of_case)).annotate(sort_at=F("updated_at"))
        .select_related(*related).defer("close_reason").order_by("-sort_at", "-id")
    )


# --- The list's pages, read lean -----------------------------------------------------------------


_STATUS_LABELS = dict(Case._meta.get_field("status").flatchoices)
_RISK_LABELS = dict(Case._meta.get_field("risk_level").flatchoices)


class CaseListRow:
    """A case as the list shows it (cases/_case_cards.html, the API's CaseSummarySerializer), read as
    one row of columns: no other field of the case is there to be shown. Its attributes are those of a
    Case read by case_list_visible_to, for what the list reads."""

    __slots__ = ("pk", "id", "number", "status", "risk_level", "created_at", "updated_at", "sort_at", "province",
                 "lead_agency")

    def __init__(self, row: tuple):
        (self.id, self.number, self.status, self.risk_level, self.created_at, self.updated_at, self.sort_at,
         province_code, province_name, agency_id, agency_name, agency_sector) = row
        self.pk = self.id
        self.province = SimpleNamespace(code=province_code, name=province_name)
        self.lead_agency = SimpleNamespace(pk=agency_id, id=agency_id, name=agency_name, sector=agency_sector)

    # The active language as the page being rendered knows it (config.rendering): not asked of Django's
    # thread-and-task locals twice for every row.
    def get_status_display(self) -> str:
        return _list_labels(active_language())[0].get(self.status, self.status)

    def get_risk_level_display(self) -> str:
        return _list_labels(active_language())[1].get(self.risk_level, self.risk_level)


@functools.cache
def _list_labels(language: str | None) -> tuple[dict, dict]:
    """The status and risk labels in `language`, the active one: translated once per process, not twice
    for every row of every page."""
    return ({value: force_str(label) for value, label in _STATUS_LABELS.items()},
            {value: force_str(label) for value, label in _RISK_LABELS.items()})


_LIST_COLUMNS = ("id", "number", "status", "risk_level", "created_at", "updated_at", "sort_at", "province__code",
                 "province__name", "lead_agency_id", "lead_agency__name", "lead_agency__sector")
_LIST_ORDERING = ("-sort_at", "-id")


def _list_columns(queryset: QuerySet[Case]) -> QuerySet:
    return queryset.order_by(*_LIST_ORDERING).values_list(*_LIST_COLUMNS)


# The list of a reader of one agency, and of one who reads only through their own (break-glass) rows:
# case_list_visible_to's queryset, compiled once (config.compiled), LIMIT and OFFSET added.
_LIST_OF_AGENCY = CompiledQuery(
    # No condition of an agency's list is on the user (a test compares it with the ORM's list).
    lambda agency_id, now: _list_columns(_visible_queryset(None, {agency_id}, now)),
    agency_id="int", now="datetime")
_LIST_OF_OWN_ROWS = CompiledQuery(
    lambda user_id, now: _list_columns(_visible_queryset(User(pk=user_id), {_OWN_ROWS}, now)),
    user_id="int", now="datetime")


class CaseList:
    """The cases a reader sees, newest first, as the case list's paginations read them: the list page's
    Django Paginator (count, slices) and the API's cursor pagination (order_by, filter, slices). A slice
    of the list as case_list_visible_to orders it, unfiltered, for a reader of one holder, is one
    compiled query of the columns the list shows (CaseListRow); anything else (a filter, a cursor's
    position, the reverse order, a reader of several agencies, another database) is the queryset of
    case_filter_list(case_list_visible_to(...)), as it was."""

    ordered = True

    def __init__(self, *, user: User, criteria: dict | None = None, counted: bool = False,
                 count_up_to: int | None = None, read_ahead: tuple[int, int] | None = None):
        """`counted`: the list's pager will ask how many cases the reader sees (visible_count), so the
        lean path reads it with the holders, in the same statement; up to `count_up_to` cases when it is
        given (the pager's bound, config.pages.BoundedPaginator). `read_ahead` (offset, limit): the
        slice the caller will read first, read in that statement too for a reader of one agency (the
        page the list page shows, the API's first page); any other slice is read when asked for."""
        self.user = user
        self.criteria = dict(criteria or {})
        self._compiled = None
        self._operations: list[tuple[str, tuple, dict]] = []
        self._queryset: QuerySet[Case] | None = None
        self._holders: tuple[set[int], datetime.datetime] | None = None
        self._count: int | None = None
        self._count_up_to = count_up_to
        self._read: tuple[int, int, list[tuple]] | None = None
        lean = connections[router.db_for_read(CaseAccessRow)].vendor == "postgresql"
        if lean and not self.criteria and user_may_be_case_reader(user):
            now = timezone.now()
            if read_ahead is not None and read_ahead[0] >= 0 and read_ahead[1] > 0:
                holders, count, rows = _holders_and_page(user, now, counted=counted, offset=read_ahead[0],
                                                         limit=read_ahead[1], count_up_to=count_up_to)
                if counted:
                    self._count = count
                if rows is not None:
                    self._read = (*read_ahead, rows)
            elif counted:
                holders, self._count = _holders_and_count(user, now, count_up_to=count_up_to)
            else:
                holders = _holders(user, now)
            # Kept: a later page (a cursor's position) is the ORM's queryset of the same holders, no query more.
            self._holders = (holders, now)
            if len(holders) == 1:
                (holder,) = holders
                self._compiled = ((_LIST_OF_OWN_ROWS, {"user_id": user.pk, "now": now}) if holder == _OWN_ROWS
                                  else (_LIST_OF_AGENCY, {"agency_id": holder, "now": now}))

    def visible_count(self, up_to: int | None = None) -> int:
        """How many cases the reader sees, unfiltered (case_count_visible_to), `up_to` that many at most:
        read with the holders when the list was made `counted` (with `count_up_to` the same) on the lean
        path, else one query."""
        if self._count is not None and self._count_up_to == up_to:
            return self._count
        return case_count_visible_to(user=self.user, up_to=up_to)

    def count_up_to(self, bound: int | None) -> int:
        """How many cases the list has, `bound` at most (None: all; config.pages.BoundedPaginator's count):
        the reader's visible count when nothing narrows the list, else the count of its queryset's first
        `bound` cases (`SELECT COUNT(*) FROM (... LIMIT bound)`)."""
        if not self.criteria and not self._operations:
            return self.visible_count(up_to=bound)
        queryset = self.queryset()
        return (queryset if bound is None else queryset[:bound]).count()

    def reads_through_an_agency(self) -> bool:
        """Whether the list was found, without a query more, to come through an agency of the reader's
        (a responder's or supervisor's membership of an active agency); False when that is not known."""
        return self._holders is not None and any(holder != _OWN_ROWS for holder in self._holders[0])

    def _clone(self, operation: tuple[str, tuple, dict]) -> "CaseList":
        clone = copy.copy(self)
        clone._operations = [*self._operations, operation]
        return clone

    def order_by(self, *fields) -> "CaseList":
        return self._clone(("order_by", fields, {}))

    def filter(self, *args, **kwargs) -> "CaseList":
        return self._clone(("filter", args, kwargs))

    def queryset(self) -> QuerySet[Case]:
        """The ORM's queryset of this list, with what was asked of it since."""
        if self._queryset is None:
            if self._holders is not None:
                holders, now = self._holders
                self._queryset = _visible_queryset(self.user, holders, now) if holders else _no_cases()
            else:
                self._queryset = case_filter_list(case_list_visible_to(user=self.user), **self.criteria)
        queryset = self._queryset
        for name, args, kwargs in self._operations:
            queryset = getattr(queryset, name)(*args, **kwargs)
        return queryset

    def _lean(self) -> bool:
        return self._compiled is not None and all(
            (name, args, kwargs) == ("order_by", _LIST_ORDERING, {}) for name, args, kwargs in self._operations)

    def __getitem__(self, index):
        if isinstance(index, slice) and index.step is None and self._lean():
            start, stop = index.start or 0, index.stop
            if start >= 0 and stop is not None and stop >= start:
                if stop == start:
                    return []  # as the ORM answers an empty slice: no query (an empty list's page)
                if self._read is not None and start == self._read[0] and stop - start <= self._read[1]:
                    return [CaseListRow(row) for row in self._read[2][:stop - start]]
                query, values = self._compiled
                rows = query.rows(wrap="%s LIMIT %%s OFFSET %%s", model=CaseAccessRow, extra=(stop - start, start),
                                  **values)
                return [CaseListRow(row) for row in rows]
        return self.queryset()[index]

    def __iter__(self):
        return iter(self.queryset())

    def count(self) -> int:
        return self.queryset().count()


def case_count_visible_to(*, user: User, up_to: int | None = None) -> int:
    """How many cases the user sees (what the list's pager counts), `up_to` that many at most: the
    user's access rows in force, never the country's cases. One query, read from the access rows' list
    indexes alone, stopped at `up_to`."""
    if not user_may_be_case_reader(user):
        return 0
    if up_to is None:
        ((count,),) = _VISIBLE_CASE_IDS.rows(wrap="SELECT COUNT(*) FROM (%s) counted", model=CaseAccessRow,
                                             user_id=user.pk, now=timezone.now())
    else:
        ((count,),) = _VISIBLE_CASE_IDS.rows(wrap="SELECT COUNT(*) FROM (%s LIMIT %%s) counted", extra=(up_to,),
                                             model=CaseAccessRow, user_id=user.pk, now=timezone.now())
    return count


def _visible_case_ids(user: User, now) -> QuerySet:
    rows = CaseAccessRow.objects.filter(_in_force(now), case_reader_condition(user),
                                        GreaterThan(F("rights").bitand(VIEW_BIT), 0)).order_by()
    # Two branches, one per index; UNION counts a case seen through two holders once.
    via_agencies = rows.filter(agency__isnull=False, agency_id__in=_case_agency_ids(user)).values_list("case_id")
    own = rows.filter(user=user).values_list("case_id")
    return via_agencies.union(own)


_VISIBLE_CASE_IDS = CompiledQuery(lambda user_id, now: _visible_case_ids(User(pk=user_id), now),
                                  user_id="int", now="datetime")


def _holders_and_count(user: User, now, *, count_up_to: int | None = None) -> tuple[set[int], int]:
    """_holders and case_count_visible_to (up to `count_up_to`) in one statement (PostgreSQL: both
    compiled), as the list's page needs both (_holders_and_page without a page)."""
    holders, count, _rows = _holders_and_page(user, now, counted=True, offset=0, limit=0, count_up_to=count_up_to)
    return holders, count or 0


@functools.cache
def _rows_of_visible_cases(counted: str) -> str:
    """_VISIBLE_CASE_IDS's SQL with its two branches' rows kept, not made a set (UNION ALL). A reader of
    one holder (one agency, or their own rows alone) has one row per case in force at any instant
    (permissions.access), so the rows are the cases: counting them skips the set of every visible case id
    the UNION builds, most of the count at a busy agency (at a million cases, 26,744 cases: PostgreSQL's
    CPU 11 ms -> 4 ms)."""
    rows = counted.replace(") UNION (", ") UNION ALL (")
    if rows.count(" UNION ALL ") != 1 or counted.count(" UNION ") != 1:
        raise ValueError("the visible cases' query is no longer a UNION of two branches")
    return rows


@functools.cache
def _holders_and_page_sql(using: str, counted: bool) -> tuple[str, tuple, tuple, tuple]:
    """The statement of _holders_and_page, and the slots of its parts' parameters."""
    holders, holders_slots = _HOLDERS.sql(using)
    counted_sql, counted_slots = _VISIBLE_CASE_IDS.sql(using) if counted else ("", ())
    # The list of one agency, its agency the reader's one holder read in the same statement.
    page, page_slots = _LIST_OF_AGENCY.sql_with(using, agency_id="h.holders[1]")
    # The count of a reader of one holder is its rows' (_rows_of_visible_cases); of several, their cases'.
    # PostgreSQL runs only the branch of the CASE that is taken. Each stops at its LIMIT (the pager's
    # bound; NULL: none), so a busy agency's count reads a thousand index entries, not all of them.
    rows_counted = _rows_of_visible_cases(counted_sql) if counted else ""
    count = (f"CASE WHEN cardinality(hh.holders) <= 1 THEN (SELECT COUNT(*) FROM ({rows_counted} LIMIT %s) counted) "  # noqa: S608
             f"ELSE (SELECT COUNT(*) FROM ({counted_sql} LIMIT %s) counted) END" if counted else "NULL::bigint")
    # SQL the ORM compiled; every value is a parameter. OFFSET 0: the holders are read once, not
    # copied into each place that names them.
    sql = (f"SELECT h.holders, h.n, l.* FROM (SELECT hh.holders, {count} n FROM "  # noqa: S608
           f"(SELECT ARRAY({holders}) holders OFFSET 0) hh) h "
           f"LEFT JOIN LATERAL ({page} LIMIT %s OFFSET %s) l ON cardinality(h.holders) = 1 AND h.holders[1] <> "
           f"{_OWN_ROWS}")
    # The count's two branches take the same values, each followed by its LIMIT.
    return sql, holders_slots, counted_slots, page_slots


def _holders_and_page(user: User, now, *, counted: bool, offset: int, limit: int,
                      count_up_to: int | None = None) -> tuple[set[int], int | None, list[tuple] | None]:
    """_holders (and, when `counted`, case_count_visible_to up to `count_up_to`), and for a reader of one
    agency the rows of its list from `offset` (`limit` at most) as _LIST_OF_AGENCY reads them: one
    statement (PostgreSQL). The rows are None for any other reader."""
    using = router.db_for_read(CaseAccessRow)
    sql, holders_slots, counted_slots, page_slots = _holders_and_page_sql(using, counted)
    values = {"user_id": user.pk, "now": now}
    branch = [*CompiledQuery.params_of(counted_slots, **values), count_up_to] if counted else []
    # In the order of the statement's text: the count's two branches, the holders, the page.
    params = [*branch, *branch, *CompiledQuery.params_of(holders_slots, **values),
              *CompiledQuery.params_of(page_slots, now=now), limit, offset]
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    holders = set(found[0][0])
    count = found[0][1] if counted else None
    if len(holders) != 1 or _OWN_ROWS in holders:
        return holders, count, None
    return holders, count, [row[2:] for row in found if row[2] is not None]


def case_filter_list(
    qs: QuerySet[Case],
    *,
    status: str | None = None,
    risk_level: str | None = None,
    province_code: str | None = None,
    updated_since: datetime.datetime | None = None,
    number: str | None = None,
) -> QuerySet[Case]:
    if status:
        qs = qs.filter(status=status)
    if risk_level:
        qs = qs.filter(risk_level=risk_level)
    if province_code:
        qs = qs.filter(province__code=province_code)
    if updated_since:
        qs = qs.filter(updated_at__gte=updated_since)
    if number:
        qs = qs.filter(number__iexact=number.strip())
    return qs


def _access_rows_query(*, user_id: int, case_id: int, now: datetime.datetime) -> QuerySet:
    """One query: the rows of the user's agencies (with the agency they come through), the user's own
    time-limited rows (through no agency) and the agencies the user works for (to know whom they act
    for), as (rights, categories, agency id) with _MEMBER_BITS marking a membership."""
    user = User(pk=user_id)
    via_agencies = CaseAccessRow.objects.filter(
        _in_force(now), case_reader_condition(user), case_id=case_id, agency_id__in=_case_agency_ids(user),
    ).order_by().values_list("rights", "categories", "agency_id")
    via_user = (
        CaseAccessRow.objects.filter(_in_force(now), case_reader_condition(user), case_id=case_id, user=user)
        .order_by().annotate(no_agency=Value(None, output_field=IntegerField()))
        .values_list("rights", "categories", "no_agency")
    )
    memberships = (
        Membership.objects.filter(user=user, role__in=CASE_ROLES, agency__active=True).order_by()
        .annotate(marker=Value(_MEMBER_BITS, output_field=IntegerField()), none=Value(0, output_field=IntegerField()),
                  member_of=F("agency_id"))
        .values_list("marker", "none", "member_of")
    )
    return via_agencies.union(via_user, memberships, all=True)


# The ORM builds that union of three queries with four EXISTS in about 3 ms of CPU, ten times what the
# database takes to answer it, and only the user, the case and the instant change between two reads.
_ACCESS_ROWS = CompiledQuery(_access_rows_query, user_id="int", case_id="int", now="datetime")


def _case_query(case_id: int) -> QuerySet[Case]:
    # survivor__data_key: the case key comes with the case, so the page opens its text without a query.
    return Case.objects.select_related("province", "lead_agency", "survivor", "responsible",
                                       "survivor__data_key").filter(pk=case_id).order_by()


# Five joins compiled once: the ORM took a millisecond of CPU to write the same SQL at every case read.
_CASE = CompiledModels(_case_query, case_id="int")


@functools.cache
def _with_access_rows(using: str) -> str:
    """The wrap of _CASE that puts the reader's rows of _ACCESS_ROWS after the case's columns, as three
    arrays in step (rights, categories, agency ids; NULL when there is none): case_get_for_user's two
    reads in one statement. Its parameters are _ACCESS_ROWS's, after the case's (CompiledQuery.rows)."""
    sql, _slots = _ACCESS_ROWS.sql(using)
    # SQL the ORM compiled; every value is a parameter.
    return ("SELECT c.*, a.rights, a.categories, a.agency_ids FROM (%s) c, (SELECT array_agg(u.rights) rights, "  # noqa: S608
            "array_agg(u.categories) categories, array_agg(u.agency_id) agency_ids FROM ("
            + sql.replace("%", "%%") + ") u) a")


def case_get_for_user(*, user: User, case_id: int, require: str = CaseRight.VIEW) -> CaseAccess:
    """The case with the user's rights and categories, or NotFound when the user may not see it:
    an unshared case is indistinguishable from a missing one. PermissionDenied when the user sees
    the case but lacks `require`."""
    return _case_read(user, case_id, require, for_page=False)


def case_get_for_page(*, user: User, case_id: int) -> CaseAccess:
    """case_get_for_user (the right to view) followed by case_prefetch_for_page, for the case page: on
    PostgreSQL the incidents and the panels' probes come in the case read's own statement (a statement
    fewer on every case page), and are made into instances only once the user is known to see the case."""
    return _case_read(user, case_id, CaseRight.VIEW, for_page=True)


@functools.cache
def _with_access_rows_and_incidents(using: str) -> str:
    """_with_access_rows with case_prefetch_for_page's statement (the incidents, each followed by the
    probes' EXISTS) LEFT JOINed after the access rows: a row per incident, one with NULLs for a case
    without any. Its parameters are _ACCESS_ROWS's, then the probes' and the incidents' (_page_params)."""
    _names, wrap = _incidents_and_probes(using)
    incidents, _slots = _INCIDENTS.sql(using, wrap)
    select = "SELECT c.*, a.rights, a.categories, a.agency_ids FROM "
    with_access = _with_access_rows(using)
    if not with_access.startswith(select):
        raise ValueError("the case read's statement is not the one this extends")
    # SQL the ORM compiled (and the probes' registered querysets); every value is a parameter.
    return ("SELECT c.*, a.rights, a.categories, a.agency_ids, i.* FROM " + with_access[len(select):]  # noqa: S608
            + " LEFT JOIN (" + incidents.replace("%", "%%") + ") i ON true")


def _page_params(using: str, case_id: int) -> tuple:
    """The parameters of case_prefetch_for_page's statement in the order its SQL shows them: the probes'
    EXISTS come before the incidents' query (SELECT q.*, EXISTS(...) FROM (incidents) q)."""
    names, _wrap = _incidents_and_probes(using)
    return (*(param for name in names for param in _PAGE_PROBES[name].params(using, case_id=case_id)),
            *_INCIDENTS.params(using, case_id=case_id))


def _case_read(user: User, case_id: int, require: str, *, for_page: bool) -> CaseAccess:
    if not user_may_be_case_reader(user):
        raise NotFound
    case_id = row_id_or_not_found(case_id)
    now = timezone.now()
    using = router.db_for_read(CaseAccessRow)
    page_rows: list[tuple] | None = None
    if connections[using].vendor == "postgresql":
        # One statement: the case and the user's rows on it (the primary's, where access is read), and for
        # the page its incidents and probes (read where incidents are read: the same database, checked).
        access_params = tuple(_ACCESS_ROWS.params(using, user_id=user.pk, case_id=case_id, now=now))
        with_page = for_page and bool(_PAGE_PROBES) and router.db_for_read(Incident) == using
        found = _CASE.objects_and_columns(
            wrap=_with_access_rows_and_incidents(using) if with_page else _with_access_rows(using),
            model=CaseAccessRow, case_id=case_id,
            extra=(*access_params, *_page_params(using, case_id)) if with_page else access_params)
        if not found:
            raise NotFound
        case, (all_rights, all_categories, agency_ids, *_page) = found[0]
        access_rows: Iterable[tuple] = zip(all_rights or (), all_categories or (), agency_ids or (), strict=True)
        if with_page:
            page_rows = [columns[3:] for _case, columns in found if columns[3] is not None]
    else:
        found = _CASE.objects(case_id=case_id, model=Case)
        if not found:
            raise NotFound
        case = found[0]
        access_rows = _ACCESS_ROWS.rows(user_id=user.pk, case_id=case.pk, now=now, model=CaseAccessRow)
    if case.survivor.data_key is not None:
        crypto.key_from_raw(case.survivor.data_key.kid, case.survivor.data_key.wrapped_key)
        if case.data_key_id == case.survivor.data_key_id:
            # The same row: what a write seals on the case (an action's text, a handoff's message) needs no query.
            case.data_key = case.survivor.data_key
    rows = set()
    for rights, categories, agency_id in access_rows:
        if rights == _MEMBER_BITS:
            rows.add((_MEMBER, agency_id))
        else:
            rows.update((codename, agency_id) for codename in codenames_from_masks(rights, categories))
    access = _case_access(case, rows)
    if not access.can(require):
        raise PermissionDenied
    if for_page:
        if page_rows is None:
            case_prefetch_for_page(access)
        else:
            _page_prefetched(access, page_rows, using)
    return access


def case_codenames_for(*, user: User, case_ids) -> dict[int, frozenset[str]]:
    """guardian-style object permissions, read from the access rows: for each of `case_ids` the user
    may see, the codenames (rights and view_<category>) held through any of their agencies or their
    own break-glass rows in force now, as guardian's checker unions a user's groups. A case the user
    may not see is absent (nothing held without view_case). One query, whatever the number of cases;
    none for anyone who never reads cases."""
    case_ids = list(case_ids)
    if not case_ids or not user_may_be_case_reader(user):
        return {}
    rows = CaseAccessRow.objects.filter(
        Q(agency_id__in=_case_agency_ids(user)) | Q(user=user), _in_force(timezone.now()),
        case_reader_condition(user), case_id__in=case_ids,
    ).order_by().values_list("case_id", "rights", "categories")
    masks: dict[int, tuple[int, int]] = {}
    for case_id, rights, categories in rows:
        held_rights, held_categories = masks.get(case_id, (0, 0))
        masks[case_id] = (held_rights | rights, held_categories | categories)
    return {
        case_id: frozenset(codenames_from_masks(rights, categories))
        for case_id, (rights, categories) in masks.items() if rights & VIEW_BIT
    }


# --- The parts of one case, for display. Who may see the case was decided when `access` was made.


class _CommaJoined(Aggregate):
    """The values of a column joined with commas. Django 5.2 has no portable StringAgg; SQLite
    and PostgreSQL, the two databases HopLuc runs on, spell it differently."""

    function = "GROUP_CONCAT"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="STRING_AGG", template="%(function)s(%(expressions)s, ',')",
                           **extra_context)


def _incidents_query(case_id: int) -> QuerySet[Incident]:
    forms = (
        IncidentTechForm.objects.filter(incident=OuterRef("pk")).order_by().values("incident")
        .annotate(joined=_CommaJoined("form")).values("joined")
    )
    return (Incident.objects.filter(case_id=case_id).select_related("province", "commune", "recorded_by_agency")
            # Undated incidents last, on every database.
            .annotate(tech_forms_joined=Subquery(forms)).order_by(F("occurred_on").asc(nulls_last=True), "id"))


_INCIDENTS = CompiledModels(_incidents_query, case_id="int")


def case_prefetch_for_detail(case: Case) -> None:
    """Incidents with everything the detail shows, technology-facilitated forms included, in one
    compiled query, as `case.incidents.all()` (sets `tech_forms`, a sorted list of values, on each
    incident)."""
    _prefetched_incidents(case, _INCIDENTS.objects(case_id=case.pk, model=Incident))


def _prefetched_incidents(case: Case, incidents: list[Incident]) -> None:
    for incident in incidents:
        incident.case = case
        incident.tech_forms = sorted(filter(None, (incident.tech_forms_joined or "").split(",")))
    # As prefetch_related_objects leaves it: the related manager answers from these rows.
    prefetched = case.incidents.get_queryset()
    prefetched._result_cache, prefetched._prefetch_done = incidents, True
    case._prefetched_objects_cache = {**getattr(case, "_prefetched_objects_cache", {}), "incidents": prefetched}


# The case page's panels drawn by apps built on the case (risk assessments, the action plan, takedowns)
# each read the case's rows of theirs with a statement of their own, which for most cases finds none.
# Each such app registers here (AppConfig.ready) the rows of a case its panel reads from, or more: the
# page asks whether any exists with its incidents, in the same statement (an EXISTS each), and a panel
# whose rows do not exist reads nothing (case_page_has_none). cases imports none of these apps.
_PAGE_PROBES: dict[str, CompiledQuery] = {}


def case_page_probe_register(name: str, rows_of) -> None:
    """Register the panel `name`'s rows: `rows_of(case_id)`, a queryset of every row of the case the
    panel may read (a superset is safe: the panel then reads as before)."""
    if name in _PAGE_PROBES:
        raise RuntimeError(f"two case page probes named {name!r}")
    _PAGE_PROBES[name] = CompiledQuery(lambda case_id: rows_of(case_id).order_by().values("pk"), case_id="int")


# The incidents' statement with the probes' EXISTS after their columns, by database alias.
_INCIDENTS_AND_PROBES: dict[str, tuple[tuple[str, ...], str]] = {}


def _incidents_and_probes(using: str) -> tuple[tuple[str, ...], str]:
    found = _INCIDENTS_AND_PROBES.get(using)
    if found is None:
        names = tuple(sorted(_PAGE_PROBES))
        exists = []
        for name in names:
            sql, _slots = _PAGE_PROBES[name].sql(using)
            # Within the wrap its own placeholders and percent signs are kept as they are (wrap % sql).
            exists.append(f"EXISTS({sql.replace('%', '%%')})")
        # The probes' SQL is the ORM's, compiled from the registered querysets; no value goes into it.
        wrap = f"SELECT q.*, {', '.join(exists)} FROM (%s) q" if names else "%s"  # noqa: S608
        found = _INCIDENTS_AND_PROBES[using] = (names, wrap)
    return found


def case_prefetch_for_page(access: CaseAccess) -> None:
    """case_prefetch_for_detail for the case page: on PostgreSQL the same statement also tells which
    registered panels (case_page_probe_register) have no row on the case, remembered for this access
    (case_page_has_none). A case without incidents, or another database: the panels read as before."""
    case = access.case
    using = router.db_for_read(Incident)
    names = tuple(sorted(_PAGE_PROBES))
    if connections[using].vendor != "postgresql" or not names:
        case_prefetch_for_detail(case)
        return
    names, wrap = _incidents_and_probes(using)
    extra = tuple(param for name in names for param in _PAGE_PROBES[name].params(using, case_id=case.pk))
    found = _INCIDENTS.objects_and_columns(wrap=wrap, extra=extra, model=Incident, case_id=case.pk)
    _page_incidents(access, names, found)


def _page_prefetched(access: CaseAccess, rows: list[tuple], using: str) -> None:
    """case_prefetch_for_page from the rows of its statement as the case page's read brought them (each
    an incident's columns, then its probes')."""
    names, _wrap = _incidents_and_probes(using)
    incidents = _INCIDENTS._instances(using, rows)  # noqa: SLF001 - rows of _INCIDENTS's own SQL, read with it
    _page_incidents(access, names, [(incident, tuple(row[-len(names):]))
                                    for incident, row in zip(incidents, rows, strict=True)])


def _page_incidents(access: CaseAccess, names: tuple[str, ...], found: list) -> None:
    """The incidents of the case page's statement ((incident, its probes' answers) pairs) set on the case,
    and the panels found to have no row remembered for this access."""
    # In the statement's order, which is the inner query's; sorted again as it orders them, to be sure.
    found.sort(key=lambda pair: (pair[0].occurred_on is None, pair[0].occurred_on or datetime.date.min, pair[0].pk))
    _prefetched_incidents(access.case, [incident for incident, _flags in found])
    if found:
        access.shared_reads["none_of"] = frozenset(
            name for name, exists in zip(names, found[0][1], strict=True) if not exists)


def case_page_has_none(access: CaseAccess, name: str) -> bool:
    """Whether the case page's statement found that the case has no row of the panel `name` (False when
    it was not asked: the panel reads)."""
    return name in access.shared_reads.get("none_of", ())


def action_list_visible(*, access) -> QuerySet[Action]:
    """The case's actions in the categories the reader sees (general ones always), newest first."""
    categories = [GENERAL, *sorted(c for c in access.categories if access.sees(c))]
    return (
        Action.objects.filter(case_id=access.case.pk, category__in=categories)
        .select_related("actor", "agency")
        .order_by("-occurred_at", "-id")
    )


def _consents_of(case_id: int) -> QuerySet[Consent]:
    return Consent.objects.filter(case_id=case_id).order_by("-recorded_at", "-id")


def consent_list_for_case(*, access) -> QuerySet[Consent]:
    """Every consent record of the case, newest first. The timeline already tells everyone on the
    case who was given which categories; the records add purpose, giver and expiry."""
    return _consents_of(access.case.pk).select_related("receiving_agency", "recorded_by", "recorded_by_agency")


# The case page names each consent's receiving agency, never who recorded it.
_CONSENTS_SHOWN = CompiledModels(lambda case_id: _consents_of(case_id).select_related("receiving_agency"),
                                 case_id="int")


# The case page's probe of its consent card's rows (case_page_probe_register, cases.apps): every consent of
# the case, which the card lists.
CONSENTS_PANEL = "consents"


def consents_for_case_page(*, access) -> list[Consent]:
    """consent_list_for_case's records with their receiving agency only (a query compiled once); none read
    when the case page's statement found that the case has none (case_page_has_none)."""
    if case_page_has_none(access, CONSENTS_PANEL):
        return []
    return _CONSENTS_SHOWN.objects(case_id=access.case.pk, model=Consent)

