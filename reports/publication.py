"""From raw indicator tables to the publishable data of each scope's report.

All scopes of a month are suppressed together: a count shared by two tables, or by the national
report and a province report, is hidden in both or in neither, since national analysts read both.
"""

import datetime
from collections.abc import Hashable

from django.conf import settings

from .disclosure import LinkedTable, Suppression, protect_linked, threshold_check
from .indicators import NATIONAL, Month, TableDraft, month_drafts
from .periods import month_label

DATA_SCHEMA = 1


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


def scope_data(month: Month, scope: str | None, tables: list[dict], limits: dict[str, int]) -> dict:
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
    }


def month_publishable(period: datetime.date) -> tuple[Month, dict[str | None, dict]]:
    """The publishable data of every scope of the month: suppressed tables only, no raw count."""
    month, drafts = month_drafts(period)
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
    return month, {scope: scope_data(month, scope, tables[scope], limits) for scope in drafts}
