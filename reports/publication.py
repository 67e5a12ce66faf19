"""From raw indicator tables to the publishable data of each scope's report.

All scopes of a month are suppressed together: a count shared by two tables, or by the national
report and a province report, is hidden in both or in neither, since national analysts read both.
"""

import datetime
from collections.abc import Iterable

from django.conf import settings

from .coordination import StatisticDraft, month_statistics
from .disclosure import COMPLEMENTARY_MARK, Suppression, threshold_check
from .indicators import NATIONAL, ConsentAsOf, Month, TableDraft, month_drafts, month_snapshot
from .periods import month_label
from .protection import additive_lines, entry_keys, entry_thresholds, protect_month

__all__ = ["entry_keys", "entry_thresholds", "month_publishable", "thresholds"]

# 2: "statistics" (values that are not counts, such as a median) beside the tables.
DATA_SCHEMA = 2


def thresholds() -> dict[str, int]:
    return {
        "default": threshold_check(settings.REPORT_SMALL_COUNT_THRESHOLD),
        "child": threshold_check(settings.REPORT_CHILD_THRESHOLD),
    }


def _table_data(draft: TableDraft, result: Suppression) -> dict:
    grid = result.published_grid()
    m, n = len(draft.rows), len(draft.columns)
    data = {
        "key": draft.key,
        "population": draft.population,
        "threshold": result.threshold,
        "entry_thresholds": {
            "cells": [list(row[:n]) for row in result.thresholds[:m]],
            "row_totals": [row[n] for row in result.thresholds[:m]],
            "column_totals": list(result.thresholds[m][:n]),
            "total": result.thresholds[m][n],
        },
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


def month_publishable(
    period: datetime.date, *, earlier: Iterable[dict] = (), consent: ConsentAsOf | None = None,
) -> tuple[Month, dict[str | None, dict]]:
    """The publishable data of every scope of the month: suppressed tables only, no raw count.
    `earlier` are the data of every report of the month already published (all scopes and
    versions): what they hid stays hidden, and what they published is known to the reader."""
    with month_snapshot():
        month, drafts = month_drafts(period, consent=consent)
        statistics = month_statistics(month)
    limits = thresholds()
    order: list[tuple[str | None, TableDraft]] = [(scope, d) for scope, ds in drafts.items() for d in ds]
    results = protect_month(order, limits, additive=additive_lines(drafts), earlier=list(earlier)).results
    tables: dict[str | None, list[dict]] = {scope: [] for scope in drafts}
    for (scope, draft), result in zip(order, results, strict=True):
        tables[scope].append(_table_data(draft, result))
    return month, {
        scope: scope_data(month, scope, tables[scope], limits,
                          [statistic_data(s, tables[scope]) for s in statistics.get(scope, [])])
        for scope in drafts
    }
