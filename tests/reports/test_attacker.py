"""The adversary of issue 9, as a test: a national analyst who holds every report of a month (the
national one and every province's, every version) and solves them together as one integer program.
The attacker itself is in attacker.py (the demo benchmark uses it too).

It is written against the published data only and shares nothing with reports.joint:
* a count shown in several tables (or twice in one) is one unknown, named by what it counts (its
  population and its filters: province, type, sex, age band, …);
* a published number is exact (zeros too); "<t" is 1 … t−1; "x" is t or more (t: the entry's
  threshold); a withheld table says nothing;
* every line of every table adds up, and each national count is the sum of the same count in the
  provinces (an unknown even where no province publishes it);
* the versions of a correction are separate unknowns (the data changed), and the attacker also
  studies the difference between the two versions of each count.

For every hidden count it computes the smallest and largest value with SciPy's exact integer
program solver (HiGHS) and looks for a value in between; fewer than three values is a leak. Its
shortcuts (independent components, one-line components decided by counting, integer points of
random objectives, several components per solve, identical components solved once) are checked
here against the same reader without them (NaiveAttack) on leaky and safe months.

Worlds are generated (Hypothesis): a handful of incidents over up to three provinces, many small
cells, provinces with a single case, children, communes; and beside them issue 17's tables
(reports.meetings: high-risk assessments with the child form, meetings held, cases discussed, plan
items by outcome), a few records each, so that they too have small cells and provinces of their
own. The same attack recovers counts from the table-by-table method published before (its reports
for one world are kept as data in fixtures/old_method_counterexample.json) and none from today's.
"""

import datetime
import itertools
import json
from collections import Counter, defaultdict
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.disclosure import Suppression, extend, threshold_grid
from reports.indicators import NATIONAL, SECTOR_GROUPS, Month, TableDraft, _tables
from reports.meetings import ASSESSMENT_FORMS, HIGH_RISK_LEVELS, MEETING_MODES, PLAN_OUTCOMES
from reports.protection import (
    additive_lines,
    entry_keys,
    entry_thresholds,
    protect_month,
    published_entries,
    version_difference_problems,
)
from reports.publication import _table_data

from .attacker import Attack, NaiveAttack, _Component

LIMITS = {"default": 5, "child": 10}
PROVINCES = ("01", "46", "79")
TYPES = ("rape", "physical_assault", "psychological_abuse")
SEXES = ("female", "male")
BANDS = ("0-11", "12-17", "18-25", "26-40")
DELAYS = ("0-3", "4-30", "unknown")
TIMELINESS = ("within_72h", "over_3_days")
REFERRAL = ("referred", "not_referred")
COMMUNES = ("c1", "c2", "c3")


# --- A small world and its month's tables -----------------------------------------------------

incident = st.tuples(
    st.sampled_from(PROVINCES), st.sampled_from(TYPES), st.sampled_from(SEXES), st.sampled_from(BANDS),
    st.sampled_from(DELAYS), st.sampled_from(TIMELINESS), st.sampled_from(REFERRAL), st.sampled_from(COMMUNES),
)
# Many small cells: a few dozen incidents at most, often concentrated in one province.
worlds = st.lists(incident, min_size=1, max_size=24)

# Issue 17's tables: (table, province, row, column) records, a dozen at most, so their cells are small.
RISK_TABLES = {
    "high_risk_assessments": ("risk_assessments_high", "risk_level", HIGH_RISK_LEVELS, ("assessment_form",),
                              ASSESSMENT_FORMS),
    "meetings_held": ("meetings_held", "meeting_mode", MEETING_MODES, (), ()),
    "cases_discussed": ("cases_discussed", "sector", SECTOR_GROUPS, (), ()),
    "plan_items_on_time": ("plan_items_due", "plan_outcome", PLAN_OUTCOMES, ("owner_sector",), SECTOR_GROUPS),
}
risk_record = st.sampled_from(sorted(RISK_TABLES)).flatmap(lambda table: st.tuples(
    st.just(table), st.sampled_from(PROVINCES), st.sampled_from(RISK_TABLES[table][2]),
    st.sampled_from(RISK_TABLES[table][4] or ("",)),
))
risk_worlds = st.lists(risk_record, max_size=12)


def month_drafts(records, risk=()) -> dict:
    provinces = tuple(sorted({r[0] for r in records} | {r[1] for r in risk}))
    month = Month(period=datetime.date(2026, 10, 1), province_codes=provinces, province_names={})

    def tables(groups, **kwargs):
        counted = Counter(groups)
        return _tables(month, [(*g, n) for g, n in counted.items()], **kwargs)

    parts = [
        tables([(p, t, (s, b)) for p, t, s, b, *_ in records], key="incidents_by_type_sex_age",
               population="incidents", row_dim="gbv_type", rows=TYPES, col_dims=("sex", "age_band"),
               columns=[(s, b) for s in SEXES for b in BANDS]),
        tables([(r[0], r[4], ()) for r in records], key="reporting_delay", population="incidents",
               row_dim="reporting_delay", rows=DELAYS, col_dims=(), columns=[()]),
        tables([(r[0], r[5], (r[6],)) for r in records if r[1] == "rape"], key="rape_within_72h",
               population="incidents", row_dim="rape_timeliness", rows=TIMELINESS, col_dims=("health_referral",),
               columns=[(x,) for x in REFERRAL], fixed=(("gbv_type", "rape"),)),
        tables([(NATIONAL, r[0], (r[1],)) for r in records], key="incidents_by_province", population="incidents",
               row_dim="province", rows=provinces, col_dims=("gbv_type",), columns=[(t,) for t in TYPES],
               scopes=[NATIONAL]),
    ]
    for table, (population, row_dim, rows, col_dims, columns) in RISK_TABLES.items():
        parts.append(tables(
            [(p, row, (column,) if col_dims else ()) for name, p, row, column in risk if name == table], key=table,
            population=population, row_dim=row_dim, rows=rows, col_dims=col_dims,
            columns=[(c,) for c in columns] if col_dims else [()],
        ))
    drafts: dict = {scope: [] for scope in month.scopes}
    for part in parts:
        for scope, draft in part.items():
            drafts[scope].append(draft)
    for province in provinces:
        communes = Counter(r[7] for r in records if r[0] == province)
        rows = sorted(communes)
        drafts[province].append(TableDraft(
            key="incidents_by_commune", population="incidents", row_dim="commune", rows=rows, col_dims=(),
            columns=[()], cells=[[communes[c]] for c in rows], scope=province,
        ))
    return drafts


def _report(scope, tables) -> dict:
    level = {"level": "national"} if scope is NATIONAL else {"level": "province", "code": scope}
    return {"scope": level, "tables": tables}


def publish_new(drafts, earlier=()) -> dict:
    order = [(scope, d) for scope, ds in drafts.items() for d in ds]
    results = protect_month(order, LIMITS, additive=additive_lines(drafts), earlier=list(earlier)).results
    tables = defaultdict(list)
    for (scope, draft), result in zip(order, results, strict=True):
        tables[scope].append(_table_data(draft, result))
    return {scope: _report(scope, tables[scope]) for scope in drafts}


def publish_old() -> dict:
    """What the table-by-table method published before issue 9 (reports/disclosure.py at 78d681e:
    one threshold per table, 10 for communes and 5 otherwise) for OLD_COUNTEREXAMPLE below, kept as
    data: the national report first, then the provinces'."""
    document = json.loads((Path(__file__).parent / "fixtures" / "old_method_counterexample.json").read_text())
    return {report["scope"].get("code", NATIONAL): report for report in document["reports"]}


def publish_small_counts_only(drafts) -> dict:
    """Counts 1 … t−1 hidden and nothing else (no complementary count): a leaky method, for
    comparing the fast attack with the naive one."""
    tables = defaultdict(list)
    for scope, ds in drafts.items():
        for draft in ds:
            grid = extend(draft.cells, width=len(draft.columns))
            limits = threshold_grid(entry_thresholds(draft, LIMITS), (len(grid), len(grid[0])))
            small = frozenset((i, j) for i, row in enumerate(grid) for j, v in enumerate(row) if 1 <= v < limits[i][j])
            tables[scope].append(_table_data(draft, Suppression(tuple(map(tuple, grid)), limits, small)))
    return {scope: _report(scope, tables[scope]) for scope in drafts}


def truth_of(drafts) -> dict:
    values = {}
    for ds in drafts.values():
        for d in ds:
            grid = [row + [sum(row)] for row in d.cells]
            grid.append([sum(col) for col in zip(*grid, strict=True)] if grid else [0] * (len(d.columns) + 1))
            for key_row, value_row in zip(entry_keys(d), grid, strict=True):
                for key, value in zip(key_row, value_row, strict=True):
                    values[key] = value
    return values


# --- The attacker (tests/reports/attacker.py) ---------------------------------------------------


def attack_month(published: dict) -> dict:
    return Attack({"v1": list(published.values())}).narrowed()


# --- Tests --------------------------------------------------------------------------------------

# A month the old method publishes with leaks (found by running the attack on random worlds): five
# incidents in two provinces, among them the rape of a girl under 12 in province 46.
OLD_COUNTEREXAMPLE = [
    ("01", "physical_assault", "male", "26-40", "0-3", "within_72h", "not_referred", "c1"),
    ("01", "physical_assault", "female", "26-40", "4-30", "within_72h", "referred", "c2"),
    ("46", "rape", "female", "0-11", "4-30", "within_72h", "not_referred", "c3"),
    ("46", "psychological_abuse", "female", "26-40", "4-30", "within_72h", "not_referred", "c1"),
    ("46", "physical_assault", "male", "0-11", "4-30", "within_72h", "referred", "c3"),
]
GIRL_RAPED = ("incidents", frozenset({
    ("province", "46"), ("gbv_type", "rape"), ("sex", "female"), ("age_band", "0-11"),
}))


def test_the_attack_recovers_counts_the_old_table_by_table_method_hid():
    old = publish_old()
    truth = truth_of(month_drafts(OLD_COUNTEREXAMPLE))
    for report in old.values():  # the fixture is the old method's publication of this world
        for key, value, _threshold in published_entries(report):
            assert value == truth[key] if isinstance(value, int) else truth[key] >= 1, key
    leaks = attack_month(old)
    assert leaks[("v1", GIRL_RAPED)] == 1, "the old method gives away the girl's rape"
    assert not attack_month(publish_new(month_drafts(OLD_COUNTEREXAMPLE)))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(records=worlds, risk=risk_worlds)
def test_no_hidden_count_of_a_generated_month_can_be_narrowed_below_three_values(records, risk):
    drafts = month_drafts(records, risk)
    published = publish_new(drafts)
    leaks = attack_month(published)
    assert not leaks, f"narrowed: {leaks}"


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(records=worlds.filter(lambda r: len(r) >= 2), risk=risk_worlds, data=st.data())
def test_a_published_correction_reveals_nothing_through_its_difference(records, risk, data):
    """A data error fixed in one province: its new version is published only when its
    difference with the first version passes; then nothing is narrowed in either version and no
    small change is pinned."""
    first = month_drafts(records, risk)
    v1 = publish_new(first)
    index = data.draw(st.integers(0, len(records) - 1))
    fixed_type = data.draw(st.sampled_from([t for t in TYPES if t != records[index][1]]))
    corrected = list(records)
    corrected[index] = (records[index][0], fixed_type, *records[index][2:])
    second = month_drafts(corrected, risk)
    scope = records[index][0]
    if set(second) != set(first):
        return
    v2 = publish_new(second, earlier=list(v1.values()))[scope]
    if version_difference_problems(v2, [v1[scope]]):
        return  # held: nothing new is published
    attack = Attack({"v1": list(v1.values()), "v2": [v2]})
    assert not attack.narrowed()
    assert not attack.differences_narrowed("v1", "v2", truth_of(first), truth_of(second), LIMITS)


def test_child_cells_use_the_child_threshold_in_the_generated_tables():
    drafts = month_drafts(OLD_COUNTEREXAMPLE)
    for draft in drafts["01"]:
        limits = entry_thresholds(draft, LIMITS)
        for key_row, limit_row in zip(entry_keys(draft), limits, strict=True):
            for (_population, filters), limit in zip(key_row, limit_row, strict=True):
                child = any(d == "age_band" and v in ("0-11", "12-17") for d, v in filters) or any(
                    d == "commune" for d, _ in filters) or ("assessment_form", "child") in filters
                assert limit == (10 if child else 5), (draft.key, filters)


def test_a_correction_that_moves_one_incident_between_published_counts_is_refused():
    assault = ("01", "physical_assault", "female", "26-40", "0-3", "over_3_days", "referred", "c1")
    abuse = ("01", "psychological_abuse", "female", "26-40", "0-3", "over_3_days", "referred", "c1")
    other = [("46", *assault[1:])] * 12 + [("46", *abuse[1:])] * 8
    v1 = publish_new(month_drafts([*other, *[assault] * 20, *[abuse] * 20]))
    # One of the assaults was psychological abuse: 20 → 19 and 20 → 21 would describe it.
    corrected = [*other, *[assault] * 19, *[abuse] * 21]
    v2 = publish_new(month_drafts(corrected), earlier=list(v1.values()))["01"]
    problems = version_difference_problems(v2, [v1["01"]])
    assert any("gbv_type=physical_assault" in p and "20 → 19" in p for p in problems), problems
    # Whatever changed in one version and not the other cannot go unnoticed: a hidden count stays hidden.
    hidden_before = {k for k, v, _t in published_entries(v1["01"]) if not isinstance(v, int)}
    hidden_after = {k for k, v, _t in published_entries(v2) if not isinstance(v, int)}
    assert hidden_before <= hidden_after


# --- The shortcuts change no verdict --------------------------------------------------------------


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(records=worlds, risk=risk_worlds)
def test_the_fast_attack_gives_the_verdicts_of_the_naive_one(records, risk):
    """On months published with small counts hidden only (leaky) and by the joint method: the same counts
    narrowed, to the same number of values."""
    drafts = month_drafts(records, risk)
    for published in (publish_small_counts_only(drafts), publish_new(drafts)):
        systems = {"v1": list(published.values())}
        assert Attack(systems).narrowed() == NaiveAttack(systems).narrowed()


def test_the_fast_attack_finds_the_old_methods_leaks_as_the_naive_one_does():
    """The counterexample's leaks, found by the fast attack exactly as by the naive one."""
    systems = {"v1": list(publish_old().values())}
    fast = Attack(systems)
    leaks = fast.narrowed()
    assert leaks == NaiveAttack(systems).narrowed()
    assert leaks[("v1", GIRL_RAPED)] == 1
    assert fast.solves > 0, "no component needed the solver"
    assert fast.where(("v1", GIRL_RAPED)), "where the leaked count is published"


bounded = st.tuples(st.integers(0, 4), st.integers(0, 4)).map(lambda b: (min(b), max(b)))


@settings(max_examples=200, deadline=None)
@given(terms=st.lists(st.tuples(st.sampled_from((1, -1)), bounded), min_size=2, max_size=4), data=st.data())
def test_a_one_line_component_is_counted_exactly(terms, data):
    """Σ a·x = rhs with unit coefficients and bounded unknowns: the counted range of each unknown
    is exactly the set of its values among all integer solutions (enumerated)."""
    point = [data.draw(st.integers(low, high)) for _a, (low, high) in terms]
    rhs = sum(a * x for (a, _b), x in zip(terms, point, strict=True))
    lower = [low for _a, (low, _high) in terms]
    upper = [high for _a, (_low, high) in terms]
    component = _Component(list(range(len(terms))), [({k: a for k, (a, _b) in enumerate(terms)}, rhs)], lower, upper)
    solutions = [
        xs for xs in itertools.product(*(range(low, high + 1) for _a, (low, high) in terms))
        if sum(a * x for (a, _b), x in zip(terms, xs, strict=True)) == rhs
    ]
    for k in range(len(terms)):
        values = {xs[k] for xs in solutions}
        low, high = Attack._counted(component, k)
        assert set(range(low, high + 1)) == values


def _one_line(cells, total) -> dict:
    """A national report of one table: one row of two counts and its total."""
    return {"scope": {"level": "national"}, "tables": [{
        "key": "t", "population": "incidents", "threshold": 5, "withheld": False, "row_dim": "gbv_type",
        "rows": ["rape"], "col_dims": ["sex"], "columns": [["female"], ["male"]], "cells": [cells],
        "row_totals": [total], "column_totals": cells, "total": total,
    }]}


def test_linear_forms_and_small_lines_are_counted_exactly():
    """Two counts published as <5 with their total: 4 leaves each 1, 2 or 3 (safe), 3 leaves each
    1 or 2 (narrowed to two values); a sum the total pins has one value; a difference 2A − 4 three."""
    safe = Attack({"v1": [_one_line(["<5", "<5"], 4)]})
    assert safe.narrowed() == {}
    female, male = (safe.index[("v1", ("incidents", frozenset({("gbv_type", "rape"), ("sex", s)})))]
                    for s in ("female", "male"))
    assert safe.values({female: 1}) == 3
    assert safe.values({female: 1, male: 1}) == 1
    assert safe.values({female: 1, male: -1}) == 3
    narrow = Attack({"v1": [_one_line(["<5", "<5"], 3)]})
    assert sorted(narrow.narrowed().values()) == [2, 2, 2, 2]  # the cells and their column totals
    assert narrow.narrowed() == NaiveAttack({"v1": [_one_line(["<5", "<5"], 3)]}).narrowed()


# One girl assessed at severe risk with the child form in Huế, one meeting there by call that
# discussed her case, one plan item still open; a little more in Hà Nội.
RISK_COUNTEREXAMPLE = [
    ("high_risk_assessments", "46", "severe", "child"),
    ("meetings_held", "46", "call", ""),
    ("cases_discussed", "46", "education", ""),
    ("plan_items_on_time", "46", "open_overdue", "education"),
    ("high_risk_assessments", "01", "high", "adult"),
    ("high_risk_assessments", "01", "high", "adult"),
    ("high_risk_assessments", "01", "severe", "child"),
    ("meetings_held", "01", "in_person", ""),
    ("cases_discussed", "01", "police", ""),
    ("cases_discussed", "01", "health", ""),
    ("plan_items_on_time", "01", "on_time", "police"),
    ("plan_items_on_time", "01", "late", "health"),
]
GIRL_SEVERE = ("risk_assessments_high", frozenset({
    ("province", "46"), ("risk_level", "severe"), ("assessment_form", "child"),
}))


def test_the_risk_tables_single_counts_are_not_narrowed():
    drafts = month_drafts(OLD_COUNTEREXAMPLE, RISK_COUNTEREXAMPLE)
    assert truth_of(drafts)[GIRL_SEVERE] == 1
    published = publish_new(drafts)
    hue = {t["key"]: t for t in published["46"]["tables"]}
    assert set(RISK_TABLES) <= set(hue)
    assert not attack_month(published)
    # The child form's counts are under the child threshold.
    draft = next(d for d in drafts["46"] if d.key == "high_risk_assessments")
    limits = entry_thresholds(draft, LIMITS)
    assert limits[1][1] == LIMITS["child"] and limits[1][0] == LIMITS["default"]
