"""Protecting a month as one system: the suppression pattern (reports.disclosure) checked by the
joint check (reports.joint) against everything published, and widened until it passes.

1. Every entry of every table of every scope gets a key (its population and the filters that
   define it) and a threshold (reports.child_cells decides which counts are children's).
2. `protect_linked` draws a pattern: small counts hidden, complementary counts hidden so that
   every line and every national = Σ provinces line has no lone hidden entry, and each table on
   its own leaves every hidden count three values.
3. The joint check (reports.moves' constructive proofs, then reports.joint's exact solver for what
   they leave, both bounded by work and not by time) decides all of it together: every table of
   every scope, linked counts as one unknown, national = Σ provinces, and what earlier versions
   of the month published. For each
   count it can narrow, the smallest published non-zero count of each of its lines is hidden too,
   and the pattern is drawn again (at most MAX_ROUNDS times).
4. Tables that show a count still not protected are withheld (up to WITHHOLD_ROUNDS times); a
   population (incidents, new cases, actions, …) that still has such a count is withheld in
   every scope: its tables publish nothing that month, which protects it whatever the reader knows.

What earlier versions published counts as follows: an entry they hid stays hidden (so that a
correction never shows what a first version hid), and a number they published is known to the
reader whenever it is still the true count (the reader may assume nothing changed).
"""

import math
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from .child_cells import is_child_count
from .disclosure import LinkedTable, Suppression, extend, mark_bounds, protect_linked, withhold_table
from .indicators import NATIONAL, TableDraft
from .joint import JointSystem, exposed_keys, key_name
from .moves import MoveProver

MAX_ROUNDS = 4
# Rounds of withholding the tables that show a count the check cannot protect, before the whole
# population is withheld (each round frees the withheld tables' counts, which lets more move).
WITHHOLD_ROUNDS = 4


def _filter_grid(filters: tuple[tuple[str, str], ...], row_dim: str, rows, col_dims, columns):
    """The filters that define every entry of the extended grid (its cells, row totals, column
    totals and total): which people the count is of."""
    row_pairs = [((row_dim, row),) for row in rows]
    column_pairs = [tuple(zip(col_dims, column, strict=True)) for column in columns]
    grid = [[filters + r + c for c in column_pairs] + [filters + r] for r in row_pairs]
    grid.append([filters + c for c in column_pairs] + [filters])
    return grid


def _draft_filters(draft: TableDraft):
    return _filter_grid(draft.filters(), draft.row_dim, draft.rows, draft.col_dims, draft.columns)


def entry_keys(draft: TableDraft) -> list[list[Hashable]]:
    """The key of every entry of the extended grid: which people the count is of."""
    return [[(draft.population, frozenset(f)) for f in row] for row in _draft_filters(draft)]


def entry_thresholds(draft: TableDraft, limits: dict[str, int]) -> list[list[int]]:
    """Every entry's threshold: the child threshold for counts of children (reports.child_cells)."""
    return [
        [limits["child"] if is_child_count(f) else limits["default"] for f in row] for row in _draft_filters(draft)
    ]


def published_entries(data: dict):
    """(key, published value, threshold) of every entry of a published report's tables."""
    scope = data["scope"]
    scope_filter = (("province", scope["code"]),) if scope["level"] == "province" else ()
    for table in data.get("tables", []):
        if table.get("withheld"):
            continue
        fixed = tuple((table.get("fixed") or {}).items())
        grid = _filter_grid(scope_filter + fixed, table["row_dim"], table["rows"], table["col_dims"],
                            [tuple(c) for c in table["columns"]])
        m, n = len(table["rows"]), len(table["columns"])
        limits = table.get("entry_thresholds")
        for i in range(m + 1):
            for j in range(n + 1):
                if i < m and j < n:
                    value, where = table["cells"][i][j], ("cells", i, j)
                elif i < m:
                    value, where = table["row_totals"][i], ("row_totals", i)
                elif j < n:
                    value, where = table["column_totals"][j], ("column_totals", j)
                else:
                    value, where = table["total"], ("total",)
                threshold = table["threshold"]
                if limits:
                    part = limits[where[0]]
                    threshold = part if len(where) == 1 else part[where[1]] if len(where) == 2 else part[i][j]
                yield (table["population"], frozenset(grid[i][j])), value, threshold


def additive_lines(drafts: dict[str | None, list[TableDraft]]) -> list[tuple[Hashable, list[Hashable]]]:
    """National entries and the same entries of every province, for tables both levels publish."""
    national = {d.key: d for d in drafts.get(NATIONAL, [])}
    provincial: dict[str, list[TableDraft]] = {}
    for scope, scope_drafts in drafts.items():
        if scope is NATIONAL:
            continue
        for draft in scope_drafts:
            provincial.setdefault(draft.key, []).append(draft)
    lines = []
    for key, parts in provincial.items():
        total = national.get(key)
        if total is None or any(p.rows != total.rows or p.columns != total.columns for p in parts):
            continue
        total_keys = entry_keys(total)
        part_keys = [entry_keys(p) for p in parts]
        for i, row in enumerate(total_keys):
            for j, total_key in enumerate(row):
                lines.append((total_key, [keys[i][j] for keys in part_keys]))
    return lines


@dataclass
class MonthProtection:
    """The outcome, with what the joint check did (for the benchmark and the logs)."""

    results: list[Suppression]
    rounds: int = 0
    withheld_populations: set[str] = field(default_factory=set)
    withheld_tables: int = 0
    pattern_seconds: float = 0.0
    check_seconds: float = 0.0
    # CPU time of the process (HiGHS threads included): on a shared machine, what the step costs.
    pattern_cpu: float = 0.0
    check_cpu: float = 0.0
    stats: dict = field(default_factory=dict)


def _intersect(a, b):
    return (max(a[0], b[0]), min(a[1], b[1]))


class _Month:
    """The month's tables as keys, true values, lines and what earlier versions published."""

    def __init__(self, order, limits, additive, earlier: list[dict]):
        self.order = order
        self.keys = [entry_keys(d) for _scope, d in order]
        self.thresholds = [entry_thresholds(d, limits) for _scope, d in order]
        self.grids = [extend(d.cells, width=len(d.columns)) for _scope, d in order]
        self.truth: dict[Hashable, int] = {}
        for keys, grid in zip(self.keys, self.grids, strict=True):
            for key_row, value_row in zip(keys, grid, strict=True):
                for key, value in zip(key_row, value_row, strict=True):
                    if self.truth.setdefault(key, value) != value:
                        raise ValueError(f"Linked count {key!r} has two values: {self.truth[key]} and {value}")
        lines: dict[frozenset, list[tuple[Hashable, int]]] = {}
        implied: set[frozenset] = set()
        kept: set[frozenset] = set()

        def add(terms: list[tuple[Hashable, int]], *, implied_line: bool = False):
            merged: dict[Hashable, int] = {}
            for key, coefficient in terms:
                merged[key] = merged.get(key, 0) + coefficient
            merged = {k: c for k, c in merged.items() if c}
            if len(merged) > 1:
                lines.setdefault(frozenset(merged.items()), list(merged.items()))
                (implied if implied_line else kept).add(frozenset(merged.items()))

        # A national table whose every entry is the sum of the same entry over the provinces adds
        # no line the joint check needs: each of its lines is the sum of the provinces' same lines
        # (dropping an implied equation changes no solution, and lets the check peel the national
        # counts of a withheld national table off the provinces; reports.joint._peel). The
        # partners of an exposed count are still looked for in those lines.
        summed = {total for total, _parts in additive}
        part_shapes: dict[Hashable, set] = {}
        for scope, draft in order:
            if scope is not NATIONAL:
                part_shapes.setdefault(draft.key, set()).add((tuple(draft.rows), tuple(draft.columns)))
        for (scope, draft), keys in zip(order, self.keys, strict=True):
            flag = (
                scope is NATIONAL and part_shapes.get(draft.key) == {(tuple(draft.rows), tuple(draft.columns))}
                and all(k in summed for row in keys for k in row)
            )
            rows, columns = len(keys), len(keys[0])
            for i in range(rows):
                add([(keys[i][j], 1) for j in range(columns - 1)] + [(keys[i][columns - 1], -1)], implied_line=flag)
            for j in range(columns):
                add([(keys[i][j], 1) for i in range(rows - 1)] + [(keys[rows - 1][j], -1)], implied_line=flag)
        for total, parts in additive:
            add([(total, -1)] + [(p, 1) for p in parts])
        self.lines = list(lines.values())
        # A line is left out of the check only when every table that states it is such a table.
        self.check_lines = [line for name, line in lines.items() if name not in implied or name in kept]
        # Moves are checked against every line, the implied ones included (stricter, still exact).
        self.prover = MoveProver(self.truth, self.lines)
        self.lines_of: dict[Hashable, list[int]] = {}
        for index, line in enumerate(self.lines):
            for key, _c in line:
                self.lines_of.setdefault(key, []).append(index)
        # What earlier versions published: withheld tables, hidden keys, and bounds still true today.
        # A table an earlier version withheld stays withheld: publishing it now would show what
        # that version did not (its counts are no hidden entries of the earlier version's data).
        position = {(scope, draft.key): index for index, (scope, draft) in enumerate(order)}
        self.earlier_withheld: set[int] = set()
        for data in earlier:
            scope = data["scope"].get("code") if data["scope"]["level"] == "province" else NATIONAL
            for table in data.get("tables", []):
                if table.get("withheld") and (scope, table.get("key")) in position:
                    self.earlier_withheld.add(position[(scope, table["key"])])
        self.earlier_hidden: set[Hashable] = set()
        self.earlier_bounds: dict[Hashable, tuple[float, float]] = {}
        for data in earlier:
            for key, value, threshold in published_entries(data):
                if not isinstance(value, int) or isinstance(value, bool):
                    self.earlier_hidden.add(key)
                bounds = mark_bounds(value, threshold)
                truth = self.truth.get(key)
                if truth is not None and bounds[0] <= truth <= bounds[1]:
                    self.earlier_bounds[key] = _intersect(self.earlier_bounds.get(key, (0, math.inf)), bounds)

    def system(self, results: list[Suppression]) -> JointSystem:
        bounds: dict[Hashable, tuple[float, float]] = dict(self.earlier_bounds)
        for keys, result in zip(self.keys, results, strict=True):
            if result.withheld:
                continue
            rows, columns = result.shape
            for i in range(rows):
                for j in range(columns):
                    seen = mark_bounds(result.published((i, j)), result.entry_threshold((i, j)))
                    bounds[keys[i][j]] = _intersect(bounds.get(keys[i][j], (0, math.inf)), seen)
        targets = {k for k, (lo, hi) in bounds.items() if lo != hi and self.truth.get(k, 0) > 0}
        proven = self.prover.prove(targets, bounds)
        stats = {"targets": len(targets), "shown_by_moves": sum(len(v) >= 3 for v in proven.values())}
        return JointSystem(
            bounds=bounds, lines=self.check_lines, targets=targets, truth=self.truth, proven=proven, stats=stats
        )

    def partners(self, exposed: Iterable[Hashable], bounds) -> set[Hashable]:
        """For each exposed key, the smallest published non-zero count of each of its lines."""
        extra: set[Hashable] = set()
        names: dict[Hashable, str] = {}  # key_name() breaks ties between equal counts; computed once a key
        for key in exposed:
            for index in self.lines_of.get(key, ()):
                published = [
                    k for k, _c in self.lines[index]
                    if k != key and self.truth.get(k, 0) > 0 and k in bounds and bounds[k][0] == bounds[k][1]
                ]
                if published:
                    for k in published:
                        if k not in names:
                            names[k] = key_name(k)
                    extra.add(min(published, key=lambda k: (self.truth[k], names[k])))
        return extra


def protect_month(
    order: list[tuple[str | None, TableDraft]], limits: dict[str, int], *,
    additive: list[tuple[Hashable, list[Hashable]]], earlier: list[dict] = (),
) -> MonthProtection:
    """Suppress every table of the month so that the joint check passes (see the module)."""
    month = _Month(order, limits, additive, list(earlier))
    linked = [
        LinkedTable(cells=d.cells, threshold=thresholds, keys=keys, name=f"{scope}:{d.key}")
        for (scope, d), keys, thresholds in zip(order, month.keys, month.thresholds, strict=True)
    ]
    forced = set(month.earlier_hidden)
    outcome = MonthProtection(results=[])
    exposed: set[Hashable] = set()
    memo: dict = {}  # each table's pattern by its forced entries and bounds, across rounds
    for round_number in range(1, MAX_ROUNDS + 1):
        started, started_cpu = time.perf_counter(), time.process_time()
        results = protect_linked(linked, additive=additive, forced=forced, memo=memo)
        results = [
            withhold_table(result) if index in month.earlier_withheld and not result.withheld else result
            for index, result in enumerate(results)
        ]
        outcome.pattern_seconds += time.perf_counter() - started
        outcome.pattern_cpu += time.process_time() - started_cpu
        started, started_cpu = time.perf_counter(), time.process_time()
        system = month.system(results)
        exposed = exposed_keys(system)
        outcome.check_seconds += time.perf_counter() - started
        outcome.check_cpu += time.process_time() - started_cpu
        outcome.rounds, outcome.results, outcome.stats = round_number, results, dict(system.stats)
        if not exposed:
            return outcome
        extra = month.partners(exposed, system.bounds) - forced
        if not extra:
            break
        forced |= extra
    # The pattern cannot be widened any further where it matters (a province with three incidents
    # of three types and a total of "<5" leaves each type 1 or 2): withhold every table that shows
    # an exposed count, in every scope, and check again.
    results = list(outcome.results)
    for _attempt in range(WITHHOLD_ROUNDS):
        withheld_now = False
        for index, keys in enumerate(month.keys):
            if not results[index].withheld and any(k in exposed for row in keys for k in row):
                results[index] = withhold_table(results[index])
                withheld_now = True
        if not withheld_now:
            break
        started, started_cpu = time.perf_counter(), time.process_time()
        system = month.system(results)
        exposed = exposed_keys(system)
        outcome.check_seconds += time.perf_counter() - started
        outcome.check_cpu += time.process_time() - started_cpu
        outcome.results, outcome.stats = results, dict(system.stats)
        outcome.withheld_tables = sum(r.withheld for r in results)
        if not exposed:
            return outcome
    # Last resort: nothing of the population is published that month.
    populations = {key[0] for key in exposed}
    outcome.withheld_populations = populations
    outcome.results = [
        withhold_table(result) if draft.population in populations else result
        for (_scope, draft), result in zip(order, outcome.results, strict=True)
    ]
    return outcome


def version_difference_problems(new: dict, earlier: Iterable[dict]) -> list[str]:
    """Why publishing `new` beside earlier versions of the same report would describe the people
    who changed: a count published as a number in both that changed by 1 … t−1 (a change of that
    size is a small count of people, pinned exactly). Counts hidden in either version leave their
    difference at least as uncertain as the hidden count (the versions are separate unknowns), and
    counts hidden before stay hidden (protect_month), so numbers are all there is to compare."""
    problems = []
    now = {key: (value, threshold) for key, value, threshold in published_entries(new)}
    for data in earlier:
        for key, value, threshold in published_entries(data):
            if key not in now or not isinstance(value, int) or isinstance(value, bool):
                continue
            new_value, new_threshold = now[key]
            if not isinstance(new_value, int) or isinstance(new_value, bool):
                continue
            change = new_value - value
            if 0 < abs(change) < max(threshold, new_threshold):
                filters = ", ".join(f"{d}={v}" for d, v in sorted(key[1]) if d != "province")
                problems.append(f"{key[0]} [{filters or 'total'}]: {value} → {new_value}")
    return sorted(set(problems))
