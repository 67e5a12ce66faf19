"""The downloadable forms of a report, shared by the web page and the API."""

import json
from dataclasses import dataclass

from django.http import HttpResponse

from .dhis2 import report_data_value_set
from .exports import report_csv, report_xlsx
from .models import MonthlyReport
from .pdf import report_pdf
from .selectors import monthly_report_trend

FORMATS = ("csv", "xlsx", "pdf", "dhis2")


@dataclass(frozen=True)
class ReportFile:
    content: bytes
    content_type: str
    filename: str


def report_file_response(file: ReportFile) -> HttpResponse:
    """The file as a download (the page and the API answer alike)."""
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response


def report_trend_data(report: MonthlyReport) -> list[tuple[str, dict]]:
    return [(f"{r.period:%m/%y}", r.data) for r in monthly_report_trend(report=report)]


def report_filename(report: MonthlyReport, extension: str) -> str:
    scope = "national" if report.is_national else f"province-{report.province.code}"
    return f"hopluc-report-{report.period:%Y-%m}-{scope}-v{report.version}.{extension}"


def report_file(report: MonthlyReport, fmt: str) -> ReportFile:
    if fmt == "csv":
        # A byte-order mark lets spreadsheet programs read the Vietnamese text as UTF-8.
        content = "\ufeff".encode() + report_csv(report).encode()
        return ReportFile(content, "text/csv; charset=utf-8", report_filename(report, "csv"))
    if fmt == "xlsx":
        return ReportFile(
            report_xlsx(report), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            report_filename(report, "xlsx"),
        )
    if fmt == "pdf":
        return ReportFile(report_pdf(report, trend=report_trend_data(report)), "application/pdf",
                          report_filename(report, "pdf"))
    if fmt == "dhis2":
        content = json.dumps(report_data_value_set(report), ensure_ascii=False, indent=2).encode()
        return ReportFile(content, "application/json", report_filename(report, "dhis2.json"))
    raise ValueError(f"Unknown report format {fmt!r}")
