"""Issue 16 part 7: files show Viet Nam's clock in the reader's one date-and-time format (PDF, XLSX),
and no chart label of the PDF is cut off at the figure's edge."""

import datetime
import io

import pytest
from django.utils import translation
from openpyxl import load_workbook

from reports.charts import Text, figures_within, text_width
from reports.downloads import report_file
from reports.periods import published_at_label
from reports.summary import Chart, Series, charts

# 20:30 UTC on 31 October is 03:30 on 1 November in Hà Nội: a UTC time would show the wrong day.
LATE = datetime.datetime(2026, 10, 31, 20, 30, tzinfo=datetime.UTC)


@pytest.mark.parametrize(("language", "expected"), [
    ("vi", "03:30 01/11/2026 (UTC+07:00)"),
    ("en", "1 Nov 2026, 03:30 (UTC+07:00)"),
])
def test_the_publication_time_is_on_viet_nam_clock_in_the_language_format(language, expected):
    with translation.override(language):
        assert published_at_label(LATE) == expected


@pytest.fixture
def report(published):
    return published.reports[None]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_xlsx_shows_the_publication_time_on_viet_nam_clock(report, language):
    with translation.override(language):
        content = report_file(report, "xlsx").content
        expected = published_at_label(report.published_at)
    sheet = load_workbook(io.BytesIO(content))["summary"]
    values = {row[0].value: row[1].value for row in sheet.iter_rows(min_row=2, max_col=2) if row[0].value}
    published = values["Công bố lúc" if language == "vi" else "Published at"]
    assert published == expected
    local = report.published_at.astimezone(datetime.timezone(datetime.timedelta(hours=7)))
    assert f"{local:%H:%M}" in published and published.endswith("(UTC+07:00)")


def _overflow(figure) -> list[str]:
    """Texts that would stick out of the figure (and be cut off in the PDF), measured in the PDF's font."""
    out = []
    for item in figure.items:
        if not isinstance(item, Text):
            continue
        width = text_width(item.text, item.size)
        left = {"start": item.x, "middle": item.x - width / 2, "end": item.x - width}[item.anchor]
        if left < 0 or left + width > figure.width + 0.5:
            out.append(f"{item.text!r} spans {left:.0f}–{left + width:.0f} of 0–{figure.width:g}")
    return out


def _overlapping_axis_labels(figure) -> list[str]:
    axis = sorted((item for item in figure.items if isinstance(item, Text) and item.anchor == "middle"
                   and item.size == 10 and item.y > figure.height - 40), key=lambda item: item.x)
    clashes = []
    for a, b in zip(axis, axis[1:], strict=False):
        if a.y == b.y and a.x + text_width(a.text, 10) / 2 > b.x - text_width(b.text, 10) / 2:
            clashes.append(f"{a.text!r} overlaps {b.text!r}")
    return clashes


LONG = "Bạo lực tình dục trực tuyến và tống tiền bằng hình ảnh nhạy cảm (sextortion)"


def test_no_chart_label_sticks_out_of_the_pdf_figure():
    months = [f"{month:02d}/2026" for month in range(1, 13)]
    samples = [
        Chart("trend", "t", "line", months, [Series("Ca mới trong tháng (mọi cơ quan)", list(range(12))),
                                              Series("Vụ việc", ["<5"] * 12)]),
        Chart("trend-iso", "t", "line", [f"2026-{m:02d}" for m in range(1, 13)], [Series("x", list(range(12)))]),
        Chart("by_type", "t", "bar", [LONG, "Khác", "Tấn công thể chất"],
              [Series(LONG, [1234, 5, "<5"]), Series("Trẻ em", [10, None, "x"])]),
    ]
    problems = {}
    for chart in samples:
        for figure in figures_within(chart, 800):
            found = _overflow(figure) + _overlapping_axis_labels(figure)
            if found:
                problems[figure.key] = found
    assert not problems


@pytest.mark.parametrize("language", ["vi", "en"])
def test_no_label_of_a_real_report_chart_sticks_out(report, language):
    with translation.override(language):
        trend = [(f"{m:02d}/2026", report.data) for m in range(1, 13)]
        problems = {figure.key: _overflow(figure) + _overlapping_axis_labels(figure)
                    for chart in charts(report.data, trend) for figure in figures_within(chart, 700)}
    assert not {key: found for key, found in problems.items() if found}
