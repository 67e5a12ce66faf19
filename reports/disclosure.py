"""Disclosure control for published count tables. Pure functions: no database, no Django.

A table is an m×n grid of counts published with its row totals, column totals and grand total.
We work on the *extended* (m+1)×(n+1) grid: the last column holds the row totals, the last row the
column totals, the corner the grand total. Every line of the extended grid (a row or a column)
states one fact: its first entries add up to its last entry.

What a reader learns from a published table (the attacker model this module protects against):

* a published number is exact;
* "<t" (a *small* count, 1 to t-1) means the count lies in [1, t-1];
* "x" (hidden to protect a small count) means the count is at least t, because complementary
  cells are chosen among counts that are neither zero nor small and the reader may know that;
* every line's entries add up.

Zeros are published as 0. A true zero describes nobody, so by itself it identifies nobody, and
hiding every zero would leave most GBV tables of a province empty. Zeros do carry information: in
a line they tell the reader where the hidden counts are not. That is why the check below treats
zeros as exact published values, and why a zero is never used as a complementary cell (hiding it
would tell the reader "0 or at least t", which protects nothing).

A hidden count is protected when the reader cannot work it out: among all integer tables that agree
with everything published, the cell takes at least two values. The constraint matrix of a
two-dimensional table with margins is that of a network (rows and columns are nodes, cells are
arcs of a circulation), so the integer tables form the integer points of a network polytope, and a
cell can move away from its true value exactly when a cycle through it in the residual graph of
the true table exists. That check is one breadth-first search per hidden cell and direction.

The procedure:
1. primary suppression: every count from 1 to t-1 (totals included);
2. the classic line rule: a line with exactly one hidden entry gets a second one, the smallest
   non-zero published entry of that line (inner cells before totals on ties), until stable;
3. the exact check above; a hidden cell that can still be worked out gets one more hidden
   neighbour in its row or column (smallest first), then back to 2;
4. when nothing is left to hide and a cell can still be worked out (a line of "<5" cells whose total
   is "<5" too, for instance four counts of 1 under a total of 4), the whole table is withheld.

Several tables of one month share counts (the grand total of incidents appears in four tables, a
province's count of rapes in the national table and in that province's report). `protect_linked`
hides a shared count everywhere as soon as it is hidden anywhere, and lets every table's check know
the tightest bounds any table publishes for it. It does not solve the linked tables as one system:
see the module's limits in reports/README.md.
"""

import math
from collections import deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

COMPLEMENTARY_MARK = "x"

Position = tuple[int, int]
Bounds = tuple[float, float]


def small_mark(threshold: int) -> str:
    return f"<{threshold}"


MIN_THRESHOLD = 4


def threshold_check(threshold: int) -> int:
    """Below 4 a small count "<t" would narrow its value to fewer than three (with t = 3, "<3" means
    1 or 2), which is what the protection promises never to allow."""
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < MIN_THRESHOLD:
        raise ValueError(
            f"A small-count threshold must be an integer of at least {MIN_THRESHOLD}, not {threshold!r}"
        )
    return threshold


Thresholds = int | Sequence[Sequence[int]]


def threshold_grid(threshold: Thresholds, shape: tuple[int, int]) -> tuple[tuple[int, ...], ...]:
    """One threshold per entry of the extended grid: a table-wide number, or a grid of them (child
    entries of an adult table have the child threshold; see reports.child_cells)."""
    rows, columns = shape
    if isinstance(threshold, int):
        threshold_check(threshold)
        return tuple((threshold,) * columns for _ in range(rows))
    grid = tuple(tuple(int(threshold_check(t)) for t in row) for row in threshold)
    if len(grid) != rows or any(len(row) != columns for row in grid):
        raise ValueError("A threshold grid must have the shape of the extended table")
    return grid


def extend(cells: Sequence[Sequence[int]], *, width: int | None = None) -> list[list[int]]:
    """The interior cells with their row totals, column totals and grand total appended. `width`
    gives the number of columns of a table without rows."""
    m = len(cells)
    n = len(cells[0]) if m else (width or 0)
    if any(len(row) != n for row in cells):
        raise ValueError("All rows of a table must have the same number of columns")
    if any(value < 0 for row in cells for value in row):
        raise ValueError("Counts cannot be negative")
    grid = [[int(value) for value in row] + [sum(row)] for row in cells]
    column_totals = [sum(cells[i][j] for i in range(m)) for j in range(n)]
    grid.append(column_totals + [sum(column_totals)])
    return grid


@dataclass(frozen=True)
class Suppression:
    """The outcome for one table: which entries of the extended grid are hidden, or the whole table."""

    grid: tuple[tuple[int, ...], ...]
    thresholds: tuple[tuple[int, ...], ...]
    hidden: frozenset[Position]
    withheld: bool = False

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.grid), len(self.grid[0])

    @property
    def threshold(self) -> int:
        """The table's own (adult) threshold: the smallest of its entries'."""
        return min(min(row) for row in self.thresholds)

    def entry_threshold(self, position: Position) -> int:
        return self.thresholds[position[0]][position[1]]

    def is_small(self, position: Position) -> bool:
        i, j = position
        return 1 <= self.grid[i][j] < self.thresholds[i][j]

    def published(self, position: Position) -> int | str | None:
        """What the table shows at `position`: the count, "<t", "x", or None when withheld."""
        if self.withheld:
            return None
        if position not in self.hidden:
            return self.grid[position[0]][position[1]]
        return small_mark(self.entry_threshold(position)) if self.is_small(position) else COMPLEMENTARY_MARK

    def published_grid(self) -> list[list[int | str | None]]:
        rows, columns = self.shape
        return [[self.published((i, j)) for j in range(columns)] for i in range(rows)]


def mark_bounds(mark: int | str | None, threshold: int) -> Bounds:
    """What a reader knows about an entry from its published form alone."""
    if isinstance(mark, int):
        return (mark, mark)
    if mark == COMPLEMENTARY_MARK:
        return (threshold, math.inf)
    if mark == small_mark(threshold):
        return (1, threshold - 1)
    return (0, math.inf)


def _intersect(a: Bounds, b: Bounds) -> Bounds:
    return (max(a[0], b[0]), min(a[1], b[1]))


class _Circulation:
    """The extended grid as a circulation: source S → row i (row total), row i → column j (cell),
    column j → sink G (column total), G → S (grand total). Flow conservation at every node is
    exactly "each line adds up"."""

    def __init__(self, rows: int, columns: int):
        self.rows, self.columns = rows, columns  # of the extended grid
        self.source = 0
        self.sink = rows + columns - 1

    def arc(self, position: Position) -> tuple[int, int]:
        i, j = position
        inner_rows, inner_columns = self.rows - 1, self.columns - 1
        row_node = 1 + i
        column_node = 1 + inner_rows + j
        if i < inner_rows and j < inner_columns:
            return row_node, column_node
        if i < inner_rows:
            return self.source, row_node
        if j < inner_columns:
            return column_node, self.sink
        return self.sink, self.source


def _entry_bounds(
    suppression_grid: Sequence[Sequence[int]],
    hidden: Iterable[Position],
    thresholds: Sequence[Sequence[int]],
    external: Mapping[Position, Bounds],
) -> dict[Position, Bounds]:
    bounds: dict[Position, Bounds] = {}
    hidden = set(hidden)
    for i, row in enumerate(suppression_grid):
        for j, value in enumerate(row):
            if (i, j) not in hidden:
                bounds[(i, j)] = (value, value)
                continue
            threshold = thresholds[i][j]
            own = (1, threshold - 1) if 1 <= value < threshold else (threshold, math.inf)
            bounds[(i, j)] = _intersect(own, external.get((i, j), (0, math.inf)))
    return bounds


class _Residual:
    """The residual graph of the true table under one state of the bounds, built once per step
    size and shared by every entry's check (each check leaves out its own arc)."""

    def __init__(self, grid: Sequence[Sequence[int]], bounds: Mapping[Position, Bounds], network: _Circulation):
        self.grid, self.bounds, self.network = grid, bounds, network
        self._adjacency: dict[int, dict[int, list[tuple[int, Position]]]] = {}

    def adjacency(self, size: int) -> dict[int, list[tuple[int, Position]]]:
        if size not in self._adjacency:
            adjacency: dict[int, list[tuple[int, Position]]] = {}
            arc = self.network.arc
            for other, (lo, hi) in self.bounds.items():
                if lo == hi:
                    continue
                u, v = arc(other)
                value = self.grid[other[0]][other[1]]
                if value + size <= hi:
                    adjacency.setdefault(u, []).append((v, other))
                if value - size >= lo:
                    adjacency.setdefault(v, []).append((u, other))
            self._adjacency[size] = adjacency
        return self._adjacency[size]

    def can_move(self, position: Position, step: int) -> bool:
        """Whether another table agreeing with everything published has this entry at value + step.

        The true table is a feasible circulation; raising arc u→v by |step| needs a path v ⇝ u in the
        residual graph, through arcs with room for |step|, that avoids the arc itself; lowering it
        needs u ⇝ v. (For |step| = 2 this is sufficient, not necessary: a conservative answer.)
        """
        i, j = position
        low, high = self.bounds[position]
        if not low <= self.grid[i][j] + step <= high:
            return False
        adjacency = self.adjacency(abs(step))
        tail, head = self.network.arc(position)
        start, goal = (head, tail) if step > 0 else (tail, head)
        seen = {start}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if node == goal:
                return True
            for nxt, through in adjacency.get(node, ()):
                if nxt not in seen and through != position:
                    seen.add(nxt)
                    queue.append(nxt)
        return False


def _three_values(residual: _Residual, position: Position) -> bool:
    """Whether the entry can take at least three values (its own and two others) in tables that
    agree with everything the table publishes: one step each way, or two steps one way."""
    if residual.can_move(position, +1):
        return residual.can_move(position, -1) or residual.can_move(position, +2)
    return residual.can_move(position, -2)


def exposed_cells(
    grid: Sequence[Sequence[int]], hidden: Iterable[Position], threshold: Thresholds,
    external: Mapping[Position, Bounds] | None = None,
) -> list[Position]:
    """Hidden entries a reader can narrow to fewer than three values from what the table publishes."""
    hidden = sorted(set(hidden))
    thresholds = threshold_grid(threshold, (len(grid), len(grid[0])))
    bounds = _entry_bounds(grid, hidden, thresholds, external or {})
    residual = _Residual(grid, bounds, _Circulation(len(grid), len(grid[0])))
    return [p for p in hidden if not _three_values(residual, p)]


def _lines(rows: int, columns: int) -> list[list[Position]]:
    return [[(i, j) for j in range(columns)] for i in range(rows)] + [
        [(i, j) for i in range(rows)] for j in range(columns)
    ]


def _candidate(grid, hidden: set[Position], positions: Iterable[Position]) -> Position | None:
    """The entry to hide next: the smallest non-zero published one, inner cells before totals."""
    rows, columns = len(grid), len(grid[0])

    def cost(p: Position):
        is_total = p[0] == rows - 1 or p[1] == columns - 1
        return (grid[p[0]][p[1]], is_total, p)

    choices = [p for p in positions if p not in hidden and grid[p[0]][p[1]] > 0]
    return min(choices, key=cost) if choices else None


def _apply_line_rule(grid, hidden: set[Position]) -> None:
    lines = _lines(len(grid), len(grid[0]))
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(p in hidden for p in line) == 1:
                extra = _candidate(grid, hidden, line)
                if extra is not None:
                    hidden.add(extra)
                    changed = True


def protect(
    cells: Sequence[Sequence[int]], *, threshold: Thresholds, forced: Iterable[Position] = (),
    external: Mapping[Position, Bounds] | None = None, width: int | None = None,
) -> Suppression:
    """Suppress one table. `threshold` is one number or one per extended-grid entry; `forced` are
    extended-grid entries that must be hidden (because a linked table hides the same count, or the
    joint check asks for it); `external` are bounds a reader learns about hidden entries elsewhere."""
    grid = extend(cells, width=width)
    frozen_grid = tuple(tuple(row) for row in grid)
    rows, columns = len(grid), len(grid[0])
    thresholds = threshold_grid(threshold, (rows, columns))
    everything = [(i, j) for i in range(rows) for j in range(columns)]
    hidden = {p for p in everything if 1 <= grid[p[0]][p[1]] < thresholds[p[0]][p[1]]}
    hidden |= {p for p in forced if grid[p[0]][p[1]] > 0}
    external = dict(external or {})
    network = _Circulation(rows, columns)
    # Hiding one more entry only widens what a reader must consider, so a cell once shown to be
    # protected stays protected: check each one only until it passes.
    protected: set[Position] = set()
    while True:
        _apply_line_rule(grid, hidden)
        residual = _Residual(grid, _entry_bounds(grid, hidden, thresholds, external), network)
        exposed = None
        for p in sorted(hidden - protected):
            if _three_values(residual, p):
                protected.add(p)
            else:
                exposed = p
                break
        if exposed is None:
            return Suppression(frozen_grid, thresholds, frozenset(hidden))
        i, j = exposed
        extra = _candidate(grid, hidden, [(i, c) for c in range(columns)] + [(r, j) for r in range(rows)])
        if extra is None:
            extra = _candidate(grid, hidden, everything)
        if extra is None:
            return withhold_table(Suppression(frozen_grid, thresholds, frozenset(hidden)))
        hidden.add(extra)


def withhold_table(result: Suppression) -> Suppression:
    nonzero = frozenset((i, j) for i, row in enumerate(result.grid) for j, value in enumerate(row) if value > 0)
    return Suppression(result.grid, result.thresholds, nonzero, withheld=True)


@dataclass(frozen=True)
class LinkedTable:
    """A table with a key for every entry of its extended grid. Entries of different tables with the
    same key are the same count of the same people (e.g. "incidents, province 01, type rape")."""

    cells: Sequence[Sequence[int]]
    threshold: Thresholds
    keys: Sequence[Sequence[Hashable]]
    name: str = ""

    @property
    def width(self) -> int:
        return len(self.keys[0]) - 1


def protect_linked(
    tables: Sequence[LinkedTable], additive: Sequence[tuple[Hashable, Sequence[Hashable]]] = (),
    forced: Iterable[Hashable] = (), memo: dict | None = None,
) -> list[Suppression]:
    """Suppress tables that share counts so that a count hidden in one is hidden in all, and every
    table's check knows the tightest bounds any of them publishes for a hidden count.

    `additive` lists counts that are sums of other counts published in other tables (a national
    count and the same count in each province): the line rule is applied to each such line too, so
    that a province's hidden count cannot be had as the national count minus the other provinces.
    `forced` are keys hidden from the start (hidden in an earlier version, or asked for by the
    joint check of reports.joint). `memo` keeps each table's outcome by what it was drawn from (its
    forced entries and bounds): `protect` is a pure function of those, so a caller that draws the
    pattern again with more forced keys passes the same dict and only redraws the tables that
    changed.

    This is the pattern; whether it protects every count against a reader who solves all tables
    together is decided by reports.joint, which asks for more hidden keys when it does not.
    """
    values: dict[Hashable, int] = {}
    for table in tables:
        for grid_row, key_row in zip(extend(table.cells, width=table.width), table.keys, strict=True):
            for value, key in zip(grid_row, key_row, strict=True):
                if values.setdefault(key, value) != value:
                    raise ValueError(f"Linked count {key!r} has two values: {values[key]} and {value}")
    forced_keys: set[Hashable] = {k for k in forced if values.get(k, 0) > 0}
    key_bounds: dict[Hashable, Bounds] = {}
    memo = {} if memo is None else memo
    withheld: set[int] = set()
    while True:
        results = []
        for index, table in enumerate(tables):
            positions = [(i, j) for i, row in enumerate(table.keys) for j, _ in enumerate(row)]
            forced = frozenset(p for p in positions if table.keys[p[0]][p[1]] in forced_keys)
            external = tuple(sorted(
                (p, key_bounds[table.keys[p[0]][p[1]]]) for p in positions if table.keys[p[0]][p[1]] in key_bounds
            ))
            memo_key = (index, forced, external)
            if memo_key not in memo:
                memo[memo_key] = protect(
                    table.cells, threshold=table.threshold, forced=forced, external=dict(external), width=table.width
                )
            result = memo[memo_key]
            # Withholding is final: a table that publishes nothing gives the others no bounds, and
            # letting it come back once their bounds loosen would make the two states alternate.
            if result.withheld:
                withheld.add(index)
            elif index in withheld:
                result = withhold_table(result)
            results.append(result)
        new_forced = set(forced_keys)
        new_bounds: dict[Hashable, Bounds] = {}
        for table, result in zip(tables, results, strict=True):
            for p in result.hidden:
                key = table.keys[p[0]][p[1]]
                new_forced.add(key)
                if not result.withheld:
                    seen = mark_bounds(result.published(p), result.entry_threshold(p))
                    new_bounds[key] = _intersect(new_bounds.get(key, (0, math.inf)), seen)
        for total, parts in additive:
            members = [total, *parts]
            if sum(1 for k in members if k in new_forced and values.get(k, 0) > 0) == 1:
                open_members = [(values.get(k, 0), index) for index, k in enumerate(members) if k not in new_forced]
                open_members = [m for m in open_members if m[0] > 0]
                if open_members:
                    new_forced.add(members[min(open_members)[1]])
        if new_forced == forced_keys and new_bounds == key_bounds:
            return results
        forced_keys, key_bounds = new_forced, new_bounds


def protect_count(value: int, *, threshold: int) -> int | str:
    """A lone count published outside any table."""
    threshold_check(threshold)
    return small_mark(threshold) if 1 <= value < threshold else value
