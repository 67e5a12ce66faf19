"""CSV and XLSX downloads of a published report: exactly its published tables, markers included."""

import csv
import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from .labels import TOTAL_LABEL, UNIT_LABELS, column_label, scope_label, statistic_title, table_title, value_label
from .models import MonthlyReport
from .periods import published_at_label
from .summary import display, headlines

CSV_HEADER = (
    "period", "scope", "version", "table", "row", "column", "value", "table_title", "row_label", "column_label",
)


def _scope_code(data: dict) -> str:
    scope = data["scope"]
    return "national" if scope["level"] == "national" else f"province:{scope['code']}"


def _entries(table: dict):
    """(row code, column code, value) for every published entry, totals included ("total")."""
    columns = ["|".join(c) or "count" for c in table["columns"]]
    for row, cells, row_total in zip(table["rows"], table["cells"], table["row_totals"], strict=True):
        for column, value in zip(columns, cells, strict=True):
            yield row, column, value
        if len(columns) > 1:
            yield row, "total", row_total
    for column, value in zip(columns, table["column_totals"], strict=True):
        yield "total", column, value
    if len(columns) > 1:
        yield "total", "total", table["total"]


def report_csv(report: MonthlyReport) -> str:
    """One row per published entry ("tidy" form): codes for machines, labels for people. A hidden
    count is its marker ("<5", "x"); a withheld table's entries are empty. Statistics follow the
    tables, their unit in the column field."""
    data = report.data
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for table in data["tables"]:
        column_names = {"|".join(c) or "count": column_label(table, c) for c in table["columns"]}
        column_names["total"] = str(TOTAL_LABEL)
        for row, column, value in _entries(table):
            row_label = str(TOTAL_LABEL) if row == "total" else value_label(table["row_dim"], row, table)
            writer.writerow((
                data["period"], _scope_code(data), report.version, table["key"], row, column,
                "" if value is None else value, table_title(table), row_label, column_names[column],
            ))
    for statistic in data.get("statistics", []):
        unit = statistic["unit"]
        for row, value in zip(statistic["rows"], statistic["values"], strict=True):
            writer.writerow((
                data["period"], _scope_code(data), report.version, statistic["key"], row, unit,
                "" if value is None else value, statistic_title(statistic),
                value_label(statistic["row_dim"], row), str(UNIT_LABELS.get(unit, unit)),
            ))
    return buffer.getvalue()


def _sheet_name(key: str, used: set[str]) -> str:
    name = key[:31]
    index = 2
    while name in used:
        name = f"{key[:28]}_{index}"
        index += 1
    used.add(name)
    return name


def report_xlsx(report: MonthlyReport) -> bytes:
    data = report.data
    workbook = Workbook()
    summary = workbook.active
    summary.title = "summary"
    bold = Font(bold=True)
    summary.append([_("Monthly report")])
    summary["A1"].font = Font(bold=True, size=14)
    for label, value in (
        (_("Month"), data["period"]),
        (_("Scope"), scope_label(data)),
        (_("Version"), report.version),
        # Viet Nam's clock in the reader's one format, the offset written out (never UTC).
        (_("Published at"), published_at_label(report.published_at)),
        (_("Reason for the correction"), report.reason),
        (_("Content hash (SHA-256)"), report.content_hash),
        (_("Code version"), report.code_version),
    ):
        summary.append([label, value])
    summary.append([])
    summary.append([_(
        '"<%(default)d" (or "<%(child)d" in child and commune tables): a count from 1 to %(last)d. '
        '"x": hidden so that a small count cannot be worked out. "—": table withheld.'
    ) % {"default": data["thresholds"]["default"], "child": data["thresholds"]["child"],
         "last": data["thresholds"]["default"] - 1}])
    summary.append([])
    for headline in headlines(data):
        value = display(headline.value)
        summary.append([headline.label, value if headline.share is None else f"{value} ({headline.share}%)"])
    summary.column_dimensions["A"].width = 60
    summary.column_dimensions["B"].width = 40
    used = {"summary"}
    for table in data["tables"]:
        sheet = workbook.create_sheet(_sheet_name(table["key"], used))
        sheet.append([table_title(table)])
        sheet["A1"].font = bold
        if table["withheld"]:
            sheet.append([_("Withheld: too few cases to publish this table without identifying someone.")])
            continue
        multi = len(table["columns"]) > 1
        header = [""] + [column_label(table, c) for c in table["columns"]] + ([str(TOTAL_LABEL)] if multi else [])
        sheet.append(header)
        for cell in sheet[2]:
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True)
        for row, cells, total in zip(table["rows"], table["cells"], table["row_totals"], strict=True):
            sheet.append([value_label(table["row_dim"], row, table), *cells] + ([total] if multi else []))
        sheet.append([str(TOTAL_LABEL), *table["column_totals"]] + ([table["total"]] if multi else []))
        sheet.column_dimensions["A"].width = 40
    for statistic in data.get("statistics", []):
        sheet = workbook.create_sheet(_sheet_name(statistic["key"], used))
        sheet.append([statistic_title(statistic)])
        sheet["A1"].font = bold
        for row, value in zip(statistic["rows"], statistic["values"], strict=True):
            sheet.append([value_label(statistic["row_dim"], row), display(value) if value is None else value])
        sheet.column_dimensions["A"].width = 40
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
