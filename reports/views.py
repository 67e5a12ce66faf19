from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.safestring import mark_safe

from .charts import figure_for, svg
from .downloads import FORMATS, report_file, report_file_response, report_trend_data
from .labels import TOTAL_LABEL, column_label, scope_label, statistic_title, table_title
from .selectors import monthly_report_get_for_user, monthly_report_versions
from .summary import charts, headlines, statistic_rows, table_rows


def _table_context(table: dict) -> dict:
    return {
        "key": table["key"],
        "title": table_title(table),
        "withheld": table["withheld"],
        "threshold": table["threshold"],
        "columns": [column_label(table, c) for c in table["columns"]],
        "rows": table_rows(table) if not table["withheld"] else [],
        "column_totals": table["column_totals"],
        "total": table["total"],
        "with_totals": len(table["columns"]) > 1,
        "total_label": TOTAL_LABEL,
    }


@login_required
def report_detail(request, report_id: int):
    report = monthly_report_get_for_user(user=request.user, report_id=report_id)
    data = report.data
    # The SVG is built from escaped text only (reports.charts.svg), so it is safe to inline.
    figures = [(chart, mark_safe(svg(figure_for(chart)))) for chart in charts(data, report_trend_data(report))]  # noqa: S308
    return render(request, "reports/report_detail.html", {
        "report": report,
        "scope": scope_label(data),
        "thresholds": data["thresholds"],
        "small_range_end": data["thresholds"]["default"] - 1,
        "headlines": headlines(data),
        "figures": figures,
        "tables": [_table_context(t) for t in data["tables"]],
        "statistics": [
            {"key": stat["key"], "title": statistic_title(stat), "rows": statistic_rows(stat)}
            for stat in data.get("statistics", [])
        ],
        "versions": monthly_report_versions(report=report),
        "formats": FORMATS,
    })


@login_required
def report_download(request, report_id: int, fmt: str):
    report = monthly_report_get_for_user(user=request.user, report_id=report_id)
    if fmt not in FORMATS:
        raise Http404
    return report_file_response(report_file(report, fmt))
