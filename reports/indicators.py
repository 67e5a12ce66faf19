"""The indicators of the monthly report: one function per published table, registered in order.

Each function runs one GROUP BY query (values().annotate(Count)) over the month and returns the
raw counts of its table for the national scope and for every province; no case is loaded into
Python, only grouped counts. Disclosure control happens afterwards, on all tables at once
(reports.publication). Most tables are declared with `counted`: the decorated function selects and
labels the month's rows, the decorator says how they are grouped and which table they make.

Counting rules (they are the definitions the report's readers get):

* Only cases whose survivor agreed to anonymous statistics (Case.statistics_consent) are counted;
  the ones left out are counted separately, per scope, in the `left_out_*` tables.
* Month: the Asia/Ho_Chi_Minh calendar month. Incidents count in the month of `reported_on` (a
  date); new cases in the month of `created_at`, closed cases in the month of `closed_at`, actions
  in the month of `occurred_at` (timestamps, converted to local time).
* Scope: incidents belong to the province where they happened (Incident.province); cases, closed
  cases and actions to the case's province.
* Age: only the birth year is known, so the age on a day is the youngest age the survivor can
  have then: year of the day − birth year − 1 (never below 0), as cases.Survivor.age_on computes
  it. A possible child is thus counted as a child and the age band never disagrees with the case's
  child flag. Incidents use the report day; new cases the day the case was opened.
  Bands: 0–11, 12–17, 18–25, 26–40, 41–60, 61+, unknown (no birth year).
* Child: under 16 (Law on Children 102/2016/QH13); minor: under 18 (GBVIMS).
* Rape reported within 72 hours: only dates are recorded, so "within 72 hours" is decided from the
  day difference reported_on − occurred_on: 0–2 days is certainly within 72 hours; 3 days may or
  may not be (GBVIMS' "0–3 days" bucket counts it), so it is its own row; more than 3 days is not;
  no date of incident is "unknown".
* Health referral for those: an Action on the same case, of type referral or medical care, either
  in the medical data category or logged by a health-sector agency, on the report day or one of the
  three days after it (local dates): every such action within 72 hours of the report is counted,
  and some up to a day later, since the hour of the report is not recorded.
* Sector: police, health, education, social work; every other sector is "other". Cases by their
  lead agency's sector, actions by the acting agency's sector. No agency is ever named.

Referrals, deadlines and takedown requests are counted by reports.coordination, which registers its
tables here (after the ones above) with its own counting rules. ReportsConfig.ready() imports it, so
the registry is whole once Django is set up; this module imports nothing back.
"""

import contextlib
import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connections, router, transaction
from django.db.models import Case as SqlCase
from django.db.models import Count, DurationField, Exists, ExpressionWrapper, F, IntegerField, OuterRef, Q, Value, When
from django.db.models.functions import ExtractYear, TruncDate
from django.db.models.lookups import LessThan
from django.db.models.query import QuerySet

from agencies.models import Province, Sector
from cases.models import (
    CHILD_AGE,
    MINOR_AGE,
    Action,
    ActionType,
    Case,
    GbvType,
    Incident,
    IncidentTechForm,
    ReportingDelay,
    Sex,
    TechForm,
)
from permissions.categories import DataCategory

from .periods import REPORT_TIME_ZONE, month_bounds, month_last_day

NATIONAL = None  # the scope key of the national report; provinces are keyed by code

AGE_BANDS = ("0-11", "12-17", "18-25", "26-40", "41-60", "61+", "unknown")
_AGE_BAND_UPPER = ((12, "0-11"), (18, "12-17"), (26, "18-25"), (41, "26-40"), (61, "41-60"))
SEXES = tuple(Sex.values)
SEX_AGE_COLUMNS = tuple((sex, band) for sex in SEXES for band in AGE_BANDS)
SECTOR_GROUPS = (Sector.POLICE.value, Sector.HEALTH.value, Sector.EDUCATION.value, Sector.SOCIAL_WORK.value, "other")
CHILD_AGE_GROUPS = ("under_16", "16_17", "18_plus", "unknown")
RAPE_TIMELINESS = ("within_72h", "day_3", "over_3_days", "unknown")
HEALTH_REFERRAL = ("referred", "not_referred")
HEALTH_REFERRAL_TYPES = (ActionType.REFERRAL.value, ActionType.MEDICAL_CARE.value)
HEALTH_REFERRAL_WINDOW_DAYS = 3
NO_COMMUNE = "none"
COUNT_COLUMN = ()


class ReportDataError(ValueError):
    """The database holds a value the report does not know how to count."""


@dataclass
class TableDraft:
    """Raw counts of one table for one scope, before disclosure control."""

    key: str
    population: str
    row_dim: str
    rows: list[str]
    col_dims: tuple[str, ...]
    columns: list[tuple[str, ...]]
    cells: list[list[int]]
    scope: str | None
    # Filters shared by every entry beyond the scope (the rape table counts incidents of type rape).
    fixed: tuple[tuple[str, str], ...] = ()
    row_labels: dict[str, str] = field(default_factory=dict)

    def filters(self) -> tuple[tuple[str, str], ...]:
        scope = (("province", self.scope),) if self.scope is not NATIONAL else ()
        return scope + self.fixed


@dataclass(frozen=True)
class ConsentAsOf:
    """Statistics consent as it stood when the month was first published: a survivor who withdrew
    it afterwards is still counted in that month's corrections (withdrawal takes effect from the
    next month's report: removing her from a published month would describe her), and one who
    gave it afterwards is not added."""

    counted: frozenset[int] = frozenset()  # case ids: consent withdrawn since
    left_out: frozenset[int] = frozenset()  # case ids: consent given since

    def q(self, prefix: str = "") -> Q:
        """Cases counted, as a filter on a model reaching the case through `prefix` ("case__")."""
        case_id = f"{prefix}pk" if prefix else "pk"
        q = Q(**{f"{prefix}statistics_consent": True})
        if self.left_out:
            q &= ~Q(**{f"{case_id}__in": self.left_out})
        if self.counted:
            q |= Q(**{f"{case_id}__in": self.counted})
        return q


def consent_as_of(moment: datetime.datetime | None) -> ConsentAsOf:
    """Cases whose statistics consent changed after `moment`, by their consent at that moment
    (the oldest change after it tells what it was)."""
    if moment is None:
        return ConsentAsOf()
    from cases.models import CaseEvent, CaseEventType

    first: dict[int, list] = {}
    events = (
        CaseEvent.objects.filter(type=CaseEventType.UPDATED, at__gt=moment, data__changes__has_key="statistics_consent")
        .order_by("at", "pk").values_list("case_id", "data")
    )
    for case_id, data in events:
        first.setdefault(case_id, data["changes"]["statistics_consent"])
    current = dict(Case.objects.filter(pk__in=list(first)).values_list("pk", "statistics_consent"))
    counted = frozenset(c for c, (old, _new) in first.items() if old and not current.get(c))
    left_out = frozenset(c for c, (old, _new) in first.items() if not old and current.get(c))
    return ConsentAsOf(counted=counted, left_out=left_out)


@dataclass(frozen=True)
class Month:
    """The month being counted and the scopes it is counted for."""

    period: datetime.date
    province_codes: tuple[str, ...]
    province_names: dict[str, str]
    consent: ConsentAsOf = field(default_factory=ConsentAsOf)

    @property
    def first_day(self) -> datetime.date:
        return self.period

    @property
    def last_day(self) -> datetime.date:
        return month_last_day(self.period)

    @property
    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        return month_bounds(self.period)

    @property
    def scopes(self) -> tuple[str | None, ...]:
        return (NATIONAL, *self.province_codes)

    def incidents(self, *, consented: bool = True):
        counted = self.consent.q("case__")
        return Incident.objects.filter(
            counted if consented else ~counted, reported_on__gte=self.first_day, reported_on__lte=self.last_day,
        )

    def new_cases(self, *, consented: bool = True):
        start, end = self.bounds
        counted = self.consent.q()
        return Case.objects.filter(counted if consented else ~counted, created_at__gte=start, created_at__lt=end)

    def closed_cases(self):
        start, end = self.bounds
        return Case.objects.filter(self.consent.q(), closed_at__gte=start, closed_at__lt=end)

    def actions(self):
        start, end = self.bounds
        return Action.objects.filter(self.consent.q("case__"), occurred_at__gte=start, occurred_at__lt=end)

    def tech_forms(self):
        return IncidentTechForm.objects.filter(
            self.consent.q("incident__case__"), incident__reported_on__gte=self.first_day,
            incident__reported_on__lte=self.last_day,
        )


# Further tables' own ways to a province (Month → province ids), so that every province with data
# in any table gets a report and the provinces add up to the nation.
PROVINCE_SOURCES: list[Callable[["Month"], Iterable[int]]] = []


def province_source(function: Callable[["Month"], Iterable[int]]) -> Callable:
    PROVINCE_SOURCES.append(function)
    return function


def month_scope_provinces(
    period: datetime.date, *, consent: "ConsentAsOf | None" = None,
) -> tuple[tuple[str, ...], dict[str, str]]:
    """Provinces that get a report for the month: every province in force during the month, and any
    other province that still has data in it (cases of a unit that has since been merged), so that
    the province reports always add up to the national one."""
    probe = Month(period=period, province_codes=(), province_names={}, consent=consent or ConsentAsOf())
    in_force = Province.objects.filter(valid_from__lte=probe.last_day).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=probe.first_day)
    )
    ids = set(in_force.values_list("id", flat=True))
    sources = [
        probe.incidents(consented=True).values_list("province_id", flat=True),
        probe.incidents(consented=False).values_list("province_id", flat=True),
        *(q.values_list("province_id", flat=True) for q in (
            probe.new_cases(consented=True), probe.new_cases(consented=False), probe.closed_cases()
        )),
        probe.actions().values_list("case__province_id", flat=True),
        *(source(probe) for source in PROVINCE_SOURCES),
    ]
    for values in sources:
        # order_by(): the models' default ordering would otherwise join DISTINCT and return a row
        # per incident or action instead of one per province.
        ids |= set(values.order_by().distinct())
    provinces = Province.objects.filter(id__in=ids).order_by("code").values_list("code", "name")
    return tuple(code for code, _ in provinces), dict(provinces)


Indicator = Callable[[Month], dict]
INDICATORS: dict[str, Indicator] = {}


def indicator(key: str):
    def register(function: Indicator) -> Indicator:
        INDICATORS[key] = function
        return function

    return register


def _tables(
    month: Month, groups: Iterable[tuple[str, str, tuple[str, ...], int]], *, key: str, population: str,
    row_dim: str, rows: Iterable[str], col_dims: tuple[str, ...], columns: Iterable[tuple[str, ...]],
    scopes: Iterable[str | None] | None = None, **extra,
) -> dict[str | None, TableDraft]:
    """Fold grouped counts (province code, row, column, n) into one table per scope. The national
    table adds up every province's counts."""
    rows, columns = list(rows), list(columns)
    scopes = list(month.scopes if scopes is None else scopes)
    known_rows, known_columns = set(rows), set(columns)
    counts: dict[str | None, dict] = {scope: defaultdict(int) for scope in scopes}
    for province_code, row, column, n in groups:
        if row not in known_rows or column not in known_columns:
            raise ReportDataError(f"{key}: cannot count {row!r} × {column!r}")
        if NATIONAL in counts:
            counts[NATIONAL][(row, column)] += n
        if province_code is not NATIONAL and province_code in counts:
            counts[province_code][(row, column)] += n
    return {
        scope: TableDraft(
            key=key, population=population, row_dim=row_dim, rows=rows, col_dims=col_dims, columns=columns,
            cells=[[counts[scope][(row, column)] for column in columns] for row in rows], scope=scope, **extra,
        )
        for scope in scopes
    }


def _age_band(year, birth_year_field: str):
    age = ExpressionWrapper(year - F(birth_year_field) - 1, output_field=IntegerField())
    whens = [When(**{f"{birth_year_field}__isnull": True}, then=Value("unknown"))]
    whens += [When(LessThan(age, upper), then=Value(band)) for upper, band in _AGE_BAND_UPPER]
    return SqlCase(*whens, default=Value("61+"))


def _child_age_group(year, birth_year_field: str):
    age = ExpressionWrapper(year - F(birth_year_field) - 1, output_field=IntegerField())
    return SqlCase(
        When(**{f"{birth_year_field}__isnull": True}, then=Value("unknown")),
        When(LessThan(age, CHILD_AGE), then=Value("under_16")),
        When(LessThan(age, MINOR_AGE), then=Value("16_17")),
        default=Value("18_plus"),
    )


def _sector_group(sector_field: str):
    return SqlCase(
        When(**{f"{sector_field}__in": SECTOR_GROUPS[:-1]}, then=F(sector_field)), default=Value("other")
    )


def _grouped(queryset, province: str, row: str, columns: tuple[str, ...] = ()):
    fields = [province, row, *columns]
    for item in queryset.values(*fields).annotate(n=Count("id")).order_by():
        yield item[province], item[row], tuple(item[c] for c in columns), item["n"]


def counted(key: str, *, fields: tuple[str, ...], **table) -> Callable[[Callable[[Month], QuerySet]], Indicator]:
    """Register, under `key`, the indicator that counts the rows the decorated function selects for
    the month, grouped by `fields` (where the province code is, the row's field, then the columns'
    fields) and folded into one table per scope; `table` is the rest of _tables' description (the
    population, the dimensions, the rows and columns listed)."""
    province, row, *columns = fields

    def register(select: Callable[[Month], QuerySet]) -> Indicator:
        def count(month: Month) -> dict:
            return _tables(month, _grouped(select(month), province, row, tuple(columns)), key=key, **table)

        return indicator(key)(count)

    return register


@counted("new_cases", fields=("province__code", "sector", "sex"), population="cases_new", row_dim="sector",
         rows=SECTOR_GROUPS, col_dims=("sex",), columns=[(s,) for s in SEXES])
def new_cases(month: Month) -> QuerySet:
    return month.new_cases().annotate(sector=_sector_group("lead_agency__sector"), sex=F("survivor__sex"))


@counted("child_cases", fields=("province__code", "age_group", "sex"), population="cases_new",
         row_dim="child_age_group", rows=CHILD_AGE_GROUPS, col_dims=("sex",), columns=[(s,) for s in SEXES])
def child_cases(month: Month) -> QuerySet:
    opened_year = ExtractYear("created_at", tzinfo=REPORT_TIME_ZONE)
    return month.new_cases().annotate(
        age_group=_child_age_group(opened_year, "survivor__birth_year"), sex=F("survivor__sex")
    )


@counted("incidents_by_type_sex_age", fields=("province__code", "gbv_type", "sex", "age_band"),
         population="incidents", row_dim="gbv_type", rows=GbvType.values, col_dims=("sex", "age_band"),
         columns=SEX_AGE_COLUMNS)
def incidents_by_type_sex_age(month: Month) -> QuerySet:
    return month.incidents().annotate(
        sex=F("case__survivor__sex"), age_band=_age_band(ExtractYear("reported_on"), "case__survivor__birth_year")
    )


@indicator("incidents_by_province")
def incidents_by_province(month: Month) -> dict:
    groups = (
        (NATIONAL, province, (gbv_type,), n)
        for province, gbv_type, _, n in _grouped(month.incidents(), "province__code", "gbv_type")
    )
    return _tables(
        month, groups, key="incidents_by_province", population="incidents", row_dim="province",
        rows=month.province_codes, col_dims=("gbv_type",), columns=[(t,) for t in GbvType.values],
        scopes=[NATIONAL], row_labels=dict(month.province_names),
    )


@indicator("incidents_by_commune")
def incidents_by_commune(month: Month) -> dict:
    """Province reports only; commune counts are small, so the child threshold applies
    (reports.child_cells)."""
    queryset = month.incidents().annotate(commune_code=SqlCase(
        When(commune__isnull=True, then=Value(NO_COMMUNE)), default=F("commune__code")
    ))
    groups = list(
        queryset.values("province__code", "commune_code", "commune__name").annotate(n=Count("id")).order_by()
    )
    drafts = {}
    for code in month.province_codes:
        mine = sorted((g for g in groups if g["province__code"] == code), key=lambda g: g["commune_code"])
        rows = [g["commune_code"] for g in mine]
        drafts[code] = TableDraft(
            key="incidents_by_commune", population="incidents", row_dim="commune", rows=rows, col_dims=(),
            columns=[COUNT_COLUMN], cells=[[g["n"]] for g in mine], scope=code,
            row_labels={g["commune_code"]: g["commune__name"] or "" for g in mine},
        )
    return drafts


@counted("tech_forms", fields=("incident__province__code", "form", "sex"), population="tech_form_mentions",
         row_dim="tech_form", rows=TechForm.values, col_dims=("sex",), columns=[(s,) for s in SEXES])
def tech_forms(month: Month) -> QuerySet:
    return month.tech_forms().annotate(sex=F("incident__case__survivor__sex"))


@counted("reporting_delay", fields=("province__code", "reporting_delay"), population="incidents",
         row_dim="reporting_delay", rows=ReportingDelay.values, col_dims=(), columns=[COUNT_COLUMN])
def reporting_delay(month: Month) -> QuerySet:
    return month.incidents()


def _health_referral_exists():
    action_day = TruncDate("occurred_at", tzinfo=REPORT_TIME_ZONE)
    lag = ExpressionWrapper(action_day - OuterRef("reported_on"), output_field=DurationField())
    return Exists(
        Action.objects.filter(case=OuterRef("case"), type__in=HEALTH_REFERRAL_TYPES)
        .filter(Q(category=DataCategory.MEDICAL) | Q(agency__sector=Sector.HEALTH))
        .annotate(lag=lag)
        .filter(lag__gte=datetime.timedelta(0), lag__lte=datetime.timedelta(days=HEALTH_REFERRAL_WINDOW_DAYS))
    )


@counted("rape_within_72h", fields=("province__code", "timeliness", "referral"), population="incidents",
         row_dim="rape_timeliness", rows=RAPE_TIMELINESS, col_dims=("health_referral",),
         columns=[(r,) for r in HEALTH_REFERRAL], fixed=(("gbv_type", GbvType.RAPE.value),))
def rape_within_72h(month: Month) -> QuerySet:
    return (
        month.incidents()
        .filter(gbv_type=GbvType.RAPE)
        .annotate(delay=ExpressionWrapper(F("reported_on") - F("occurred_on"), output_field=DurationField()))
        .annotate(
            timeliness=SqlCase(
                When(occurred_on__isnull=True, then=Value("unknown")),
                When(delay__lte=datetime.timedelta(days=2), then=Value("within_72h")),
                When(delay__lte=datetime.timedelta(days=3), then=Value("day_3")),
                default=Value("over_3_days"),
            ),
            referral=SqlCase(When(_health_referral_exists(), then=Value("referred")), default=Value("not_referred")),
        )
    )


@counted("cases_closed", fields=("province__code", "sector"), population="cases_closed", row_dim="sector",
         rows=SECTOR_GROUPS, col_dims=(), columns=[COUNT_COLUMN])
def cases_closed(month: Month) -> QuerySet:
    return month.closed_cases().annotate(sector=_sector_group("lead_agency__sector"))


@counted("actions_by_sector", fields=("case__province__code", "sector", "type"), population="actions",
         row_dim="acting_sector", rows=SECTOR_GROUPS, col_dims=("action_type",),
         columns=[(t,) for t in ActionType.values])
def actions_by_sector(month: Month) -> QuerySet:
    """Takedown requests are the `takedown_requested` column."""
    return month.actions().annotate(sector=_sector_group("agency__sector"))


def _left_out(month: Month, queryset, *, key: str, population: str, province: str) -> dict:
    groups = ((code, "left_out", COUNT_COLUMN, n) for code, _, _, n in _grouped(
        queryset.annotate(kind=Value("left_out")), province, "kind"
    ))
    return _tables(
        month, groups, key=key, population=population, row_dim="kind", rows=["left_out"], col_dims=(),
        columns=[COUNT_COLUMN],
    )


@indicator("left_out_cases")
def left_out_cases(month: Month) -> dict:
    """New cases not counted because the survivor did not agree to statistics."""
    return _left_out(
        month, month.new_cases(consented=False), key="left_out_cases", population="cases_new_left_out",
        province="province__code",
    )


@indicator("left_out_incidents")
def left_out_incidents(month: Month) -> dict:
    return _left_out(
        month, month.incidents(consented=False), key="left_out_incidents", population="incidents_left_out",
        province="province__code",
    )


def month_drafts(
    period: datetime.date, *, consent: ConsentAsOf | None = None,
) -> tuple[Month, dict[str | None, list[TableDraft]]]:
    """Every indicator table of the month, per scope, in registry order."""
    codes, names = month_scope_provinces(period, consent=consent or ConsentAsOf())
    month = Month(period=period, province_codes=codes, province_names=names, consent=consent or ConsentAsOf())
    by_scope: dict[str | None, list[TableDraft]] = {scope: [] for scope in month.scopes}
    for function in INDICATORS.values():
        for scope, draft in function(month).items():
            by_scope[scope].append(draft)
    return month, by_scope


@contextlib.contextmanager
def month_snapshot():
    """Every query of a month's report sees the same data. Tables share counts (a referral's
    response in two tables), so a handoff answered between two queries would give one count two
    values. On PostgreSQL the queries run in one REPEATABLE READ, read-only transaction; inside a
    caller's transaction (tests, a caller that wants more) the caller's isolation stands. The
    transaction is opened where the counting reads: the read replica inside `replica_reads()`
    (config/db_router.py), the primary otherwise."""
    alias = router.db_for_read(Case)
    connection = connections[alias]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic(using=alias):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield
