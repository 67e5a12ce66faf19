"""Disclosure control: small counts hidden, and no hidden count recoverable from what is published.

The checks here do not reuse the module's own residual-graph test. A hidden entry is recoverable
unless some other table agrees with everything published; we look for one in two independent
ways: by brute force over every small table (tiny tables), and by searching for an alternating
cycle of ±1 changes through the entry that keeps every entry within what its published form
says ("<t": 1..t-1, "x": t or more, a number: exactly that).
"""

import itertools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.disclosure import (
    COMPLEMENTARY_MARK,
    LinkedTable,
    exposed_cells,
    extend,
    protect,
    protect_count,
    protect_linked,
    small_mark,
    threshold_check,
)

# Mostly small counts and zeros, as in a province's month, with some large ones.
counts = st.one_of(st.integers(0, 4), st.integers(0, 12), st.sampled_from([0, 0, 1, 2, 5, 20, 60]))


def tables(max_rows=4, max_columns=5, values=counts):
    return st.integers(1, max_rows).flatmap(
        lambda m: st.integers(1, max_columns).flatmap(
            lambda n: st.lists(st.lists(values, min_size=n, max_size=n), min_size=m, max_size=m)
        )
    )


def reader_bounds(mark, threshold):
    if isinstance(mark, int):
        return mark, mark
    if mark == small_mark(threshold):
        return 1, threshold - 1
    assert mark == COMPLEMENTARY_MARK
    return threshold, math.inf


def _sign(position, shape):
    """Totals enter their line with the opposite sign of the cells (the corner twice, so +)."""
    i, j = position
    last_row, last_column = shape[0] - 1, shape[1] - 1
    return -1 if (i == last_row) != (j == last_column) else 1


def another_table_exists(published, truth, threshold, position) -> bool:
    """Search for an alternating cycle of hidden entries through `position`: moving them by ±1 in
    turn keeps every line's sum, so if every entry stays within its published bounds the reader
    cannot tell the two tables apart."""
    shape = (len(truth), len(truth[0]))
    hidden = {(i, j) for i, row in enumerate(published) for j, mark in enumerate(row) if not isinstance(mark, int)}
    bounds = {p: reader_bounds(published[p[0]][p[1]], threshold) for p in hidden}

    def fits(p, step):
        low, high = bounds[p]
        return low <= truth[p[0]][p[1]] + step * _sign(p, shape) <= high

    def search(path, node_is_row, node, goal_row, step):
        # Walk from a column node back to the start row, alternating the change's sign.
        for p in sorted(hidden - set(path)):
            if (p[1] if not node_is_row else p[0]) != node:
                continue
            if not fits(p, step):
                continue
            nxt = p[0] if not node_is_row else p[1]
            if not node_is_row and nxt == goal_row:
                return True
            if search([*path, p], not node_is_row, nxt, goal_row, -step):
                return True
        return False

    i, j = position
    return any(fits(position, step) and search([position], False, j, i, -step) for step in (+1, -1))


def assert_protected(published, truth, threshold):
    for i, row in enumerate(published):
        for j, mark in enumerate(row):
            if not isinstance(mark, int):
                assert another_table_exists(published, truth, threshold, (i, j)), (
                    f"hidden entry {(i, j)} = {truth[i][j]} can be worked out from {published}"
                )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=tables(), threshold=st.integers(4, 6))
def test_no_hidden_count_can_be_worked_out(cells, threshold):
    result = protect(cells, threshold=threshold)
    truth = extend(cells)
    published = result.published_grid()
    if result.withheld:
        assert all(mark is None for row in published for mark in row)
        return
    assert_protected(published, truth, threshold)


@settings(max_examples=200, deadline=None)
@given(cells=tables(), threshold=st.integers(4, 6))
def test_small_counts_hidden_zeros_shown_the_rest_exact(cells, threshold):
    result = protect(cells, threshold=threshold)
    if result.withheld:
        return
    for truth_row, row in zip(extend(cells), result.published_grid(), strict=True):
        for truth, mark in zip(truth_row, row, strict=True):
            if 1 <= truth < threshold:
                assert mark == small_mark(threshold)
            elif truth == 0:
                assert mark == 0
            else:
                assert mark in (truth, COMPLEMENTARY_MARK)


@settings(max_examples=40, deadline=None)
@given(cells=tables(max_rows=2, max_columns=2, values=st.one_of(st.integers(0, 4), st.integers(0, 8))),
       threshold=st.integers(4, 5))
def test_brute_force_finds_three_values_for_every_hidden_count(cells, threshold):
    """Every 2×2 (or smaller) table of counts up to max+2 that matches what is published: each
    hidden entry must take at least three values among them."""
    result = protect(cells, threshold=threshold)
    if result.withheld:
        return
    published = result.published_grid()
    m, n = len(cells), len(cells[0])
    top = max(max(row) for row in cells) + 2
    seen: dict[tuple[int, int], set[int]] = {}
    for values in itertools.product(range(top + 1), repeat=m * n):
        candidate = extend([list(values[r * n:(r + 1) * n]) for r in range(m)])
        if all(
            reader_bounds(mark, threshold)[0] <= candidate[i][j] <= reader_bounds(mark, threshold)[1]
            for i, row in enumerate(published) for j, mark in enumerate(row)
        ):
            for i, row in enumerate(published):
                for j, mark in enumerate(row):
                    if not isinstance(mark, int):
                        seen.setdefault((i, j), set()).add(candidate[i][j])
    for position, values in seen.items():
        assert len(values) >= 3, f"{position} can only be {values} given {published}"


def test_a_lone_small_count_gets_a_partner_in_its_row_and_column():
    result = protect([[3, 20, 30], [40, 50, 60]], threshold=5)
    assert result.published_grid() == [["<5", "x", 30, 53], ["x", "x", 60, 150], [43, 70, 90, 203]]


def test_a_total_that_would_give_away_the_only_hidden_cell_is_hidden_too():
    # Row 0 is a small count and zeros: its total equals it, so the total is hidden as well.
    result = protect([[3, 0, 0], [40, 50, 60]], threshold=5)
    published = result.published_grid()
    assert published[0] == ["<5", 0, 0, "<5"]
    assert_protected(published, extend([[3, 0, 0], [40, 50, 60]]), 5)


def test_four_ones_under_a_total_of_four_are_withheld():
    # Each cell is 1..4, the total is 1..4 and the cells add up to it: all four must be 1.
    result = protect([[1, 1], [1, 1]], threshold=5)
    assert result.withheld
    assert result.published_grid() == [[None] * 3] * 3


def test_primary_suppression_alone_is_caught_as_exposed():
    grid = extend([[3, 20], [40, 50]])
    assert exposed_cells(grid, {(0, 0)}, 5) == [(0, 0)]
    assert exposed_cells(grid, {(0, 0), (0, 1), (1, 0), (1, 1)}, 5) == []


def test_large_counts_are_published_even_when_the_totals_reveal_them():
    assert protect([[100]], threshold=5).published_grid() == [[100, 100], [100, 100]]


def test_thresholds_below_four_are_refused():
    with pytest.raises(ValueError):
        threshold_check(2)
    with pytest.raises(ValueError):
        threshold_check(3)  # "<3" is 1 or 2: two values
    with pytest.raises(ValueError):
        protect([[1]], threshold=3)
    assert threshold_check(5) == 5


def test_lone_count():
    assert protect_count(3, threshold=5) == "<5"
    assert protect_count(0, threshold=5) == 0
    assert protect_count(7, threshold=5) == 7


def _keys(prefix, rows, columns):
    keys = [[(prefix, "cell", i, j) for j in range(columns)] + [(prefix, "row", i)] for i in range(rows)]
    keys.append([(prefix, "column", j) for j in range(columns)] + [(prefix, "total")])
    return keys


def test_a_count_hidden_in_one_table_is_hidden_in_every_table_that_shares_it():
    # Table B's grand total is table A's cell (0, 1), which A hides to protect the 3 beside it.
    a = LinkedTable(cells=[[3, 40], [50, 60]], threshold=5, keys=_keys("a", 2, 2))
    b_keys = _keys("b", 2, 1)
    b_keys[2][1] = ("a", "cell", 0, 1)
    b = LinkedTable(cells=[[15], [25]], threshold=5, keys=b_keys)
    assert protect(b.cells, threshold=5).published((2, 1)) == 40
    result_a, result_b = protect_linked([a, b])
    assert result_a.published((0, 1)) == COMPLEMENTARY_MARK
    assert result_b.published((2, 1)) == COMPLEMENTARY_MARK
    for result, table in ((result_a, a), (result_b, b)):
        assert_protected(result.published_grid(), extend(table.cells), 5)


def test_a_province_count_cannot_be_had_as_national_minus_the_other_provinces():
    provinces = [[[3]], [[30]], [[40]]]
    national = [[73]]
    tables = [LinkedTable(cells=c, threshold=5, keys=_keys(f"p{k}", 1, 1)) for k, c in enumerate(provinces)]
    tables.append(LinkedTable(cells=national, threshold=5, keys=_keys("n", 1, 1)))
    additive = [
        (("n", "cell", 0, 0), [(f"p{k}", "cell", 0, 0) for k in range(3)]),
    ]
    results = protect_linked(tables, additive=additive)
    hidden = [k for k in range(3) if results[k].published((0, 0)) != provinces[k][0][0]]
    assert 0 in hidden
    assert len(hidden) + (results[3].published((0, 0)) != 73) >= 2


def test_linked_counts_must_agree():
    a = LinkedTable(cells=[[3]], threshold=5, keys=_keys("a", 1, 1))
    b = LinkedTable(cells=[[4]], threshold=5, keys=_keys("a", 1, 1))
    with pytest.raises(ValueError, match="two values"):
        protect_linked([a, b])
