"""From raw indicator tables to the publishable data of each scope's report.

All scopes of a month are suppressed together: a count shared by two tables, or by the national
report and a province report, is hidden in both or in neither, since national analysts read both.
"""

import datetime
from collections.abc import Hashable

from django.conf import settings

from .coordination import StatisticDraft, month_statistics
from .disclosure import COMPLEMENTARY_MARK, LinkedTable, Suppression, protect_linked, threshold_check
from .indicators import NATIONAL, Month, TableDraft, month_drafts, month_snapshot
from .periods import month_label

# 2: "statistics" (values that are not counts, such as a median) beside the tables.
DATA_SCHEMA = 2


def thresholds() -> dict[str, int]:
    return {
        "default": threshold_check(settings.REPORT_SMALL_COUNT_THRESHOLD),
        "child": threshold_check(settings.REPORT_CHILD_THRESHOLD),
    }


def _key(draft: TableDraft, pairs: tuple[tuple[str, str], ...]) -> Hashable:
    return (draft.population, frozenset(draft.filters() + pairs))


def entry_keys(draft: TableDraft) -> list[list[Hashable]]:
    """The key of every entry of the extended grid: which people the count is of."""
    row_pairs = [((draft.row_dim, row),) for row in draft.rows]
    column_pairs = [tuple(zip(draft.col_dims, column, strict=True)) for column in draft.columns]
    keys = [[_key(draft, r + c) for c in column_pairs] + [_key(draft, r)] for r in row_pairs]
    keys.append([_key(draft, c) for c in column_pairs] + [_key(draft, ())])
    return keys


def _additive_lines(drafts: dict[str | None, list[TableDraft]]) -> list[tuple[Hashable, list[Hashable]]]:
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


def _table_data(draft: TableDraft, result: Suppression) -> dict:
    grid = result.published_grid()
    m, n = len(draft.rows), len(draft.columns)
    data = {
        "key": draft.key,
        "population": draft.population,
        "threshold": result.threshold,
        "withheld": result.withheld,
        "row_dim": draft.row_dim,
        "rows": list(draft.rows),
        "col_dims": list(draft.col_dims),
        "columns": [list(c) for c in draft.columns],
        "cells": [row[:n] for row in grid[:m]],
        "row_totals": [row[n] for row in grid[:m]],
        "column_totals": grid[m][:n],
        "total": grid[m][n],
    }
    if draft.fixed:
        data["fixed"] = {dim: value for dim, value in draft.fixed}
    if draft.row_labels:
        data["row_labels"] = {row: draft.row_labels.get(row, row) for row in draft.rows}
    return data


def _basis_value(tables: list[dict], key: str, row: str, column: tuple[str, ...] | None):
    table = next((t for t in tables if t["key"] == key), None)
    if table is None or table["withheld"] or row not in table["rows"]:
        return None
    i = table["rows"].index(row)
    if column is None:
        return table["row_totals"][i]
    return table["cells"][i][table["columns"].index(list(column))]


def statistic_data(draft: StatisticDraft, tables: list[dict]) -> dict:
    """A statistic as published: its value where the count behind it is published as a number
    (and is not zero); "x" where that count is hidden; None where there is nothing to publish."""
    values = []
    for value, (key, row, column) in zip(draft.values, draft.basis, strict=True):
        count = _basis_value(tables, key, row, column)
        if isinstance(count, int) and not isinstance(count, bool):
            values.append(value if count > 0 else None)
        else:
            values.append(None if count is None or value is None else COMPLEMENTARY_MARK)
    return {
        "key": draft.key, "unit": draft.unit, "row_dim": draft.row_dim, "rows": list(draft.rows), "values": values,
        "basis": [{"table": key, "row": row, "column": None if column is None else list(column)}
                  for key, row, column in draft.basis],
    }


def scope_data(
    month: Month, scope: str | None, tables: list[dict], limits: dict[str, int], statistics: list[dict] | None = None,
) -> dict:
    if scope is NATIONAL:
        scope_info = {"level": "national"}
    else:
        scope_info = {"level": "province", "code": scope, "name": month.province_names.get(scope, scope)}
    return {
        "schema": DATA_SCHEMA,
        "period": month_label(month.period),
        "scope": scope_info,
        "thresholds": limits,
        "tables": tables,
        "statistics": statistics or [],
    }


def month_publishable(period: datetime.date) -> tuple[Month, dict[str | None, dict]]:
    """The publishable data of every scope of the month: suppressed tables only, no raw count."""
    with month_snapshot():
        month, drafts = month_drafts(period)
        statistics = month_statistics(month)
    limits = thresholds()
    order: list[tuple[str | None, TableDraft]] = [(scope, d) for scope, ds in drafts.items() for d in ds]
    linked = [
        LinkedTable(
            cells=d.cells, threshold=limits["child" if d.child else "default"], keys=entry_keys(d),
            name=f"{scope}:{d.key}",
        )
        for scope, d in order
    ]
    results = protect_linked(linked, additive=_additive_lines(drafts))
    tables: dict[str | None, list[dict]] = {scope: [] for scope in drafts}
    for (scope, draft), result in zip(order, results, strict=True):
        tables[scope].append(_table_data(draft, result))
    return month, {
        scope: scope_data(month, scope, tables[scope], limits,
                          [statistic_data(s, tables[scope]) for s in statistics.get(scope, [])])
        for scope in drafts
    }
