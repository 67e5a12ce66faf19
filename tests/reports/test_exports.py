"""The downloads open and hold exactly the published tables; DHIS2 gets numbers only where the
report publishes numbers (the push itself: test_dhis2.py)."""

import copy
import csv
import io
import json
import math
import re

import pytest
from django.utils import translation
from openpyxl import load_workbook
from reportlab.pdfgen.textobject import PDFTextObject

from reports.dhis2 import Dhis2Error, dhis2_mapping_load, report_data_value_set
from reports.disclosure import COMPLEMENTARY_MARK
from reports.downloads import report_file
from reports.indicators import AGE_BANDS, SEXES
from reports.labels import value_label
from reports.summary import display, headlines


@pytest.fixture
def world(published):
    return published.world


def _published_values(report):
    for table in report.data["tables"]:
        for row in table["cells"]:
            yield from row
        yield from table["row_totals"]
        yield from table["column_totals"]
        yield table["total"]


def test_the_busy_month_publishes_numbers_and_hides_small_ones(reports):
    values = list(_published_values(reports[None]))
    assert any(isinstance(v, int) and v >= 5 for v in values)
    assert "<5" in values and COMPLEMENTARY_MARK in values


def test_csv_has_one_row_per_published_entry(reports):
    report = reports[None]
    file = report_file(report, "csv")
    assert file.filename == "hopluc-report-2026-10-national-v1.csv"
    text = file.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0].keys() >= {"period", "scope", "table", "row", "column", "value", "row_label", "column_label"}
    assert {r["period"] for r in rows} == {"2026-10"} and {r["scope"] for r in rows} == {"national"}
    for row in rows:
        assert re.fullmatch(r"\d+(\.\d)?|<5|<10|x|", row["value"]), row
    statistic_rows = [r for r in rows if r["table"] == "median_time_to_accept"]
    rows = [r for r in rows if r["table"] != "median_time_to_accept"]
    median = next(s for s in report.data["statistics"] if s["key"] == "median_time_to_accept")
    assert [r["row"] for r in statistic_rows] == median["rows"]
    assert [r["value"] for r in statistic_rows] == ["" if v is None else str(v) for v in median["values"]]
    assert {r["column"] for r in statistic_rows} == {"hours"}
    grand = {r["table"]: r["value"] for r in rows if r["row"] == "total" and r["column"] in ("total", "count")}
    table = next(t for t in report.data["tables"] if t["key"] == "incidents_by_type_sex_age")
    assert grand["incidents_by_type_sex_age"] == str(table["total"])


def test_xlsx_opens_with_a_sheet_per_table(reports):
    file = report_file(reports["01"], "xlsx")
    workbook = load_workbook(io.BytesIO(file.content))
    keys = [t["key"] for t in reports["01"].data["tables"]] + [s["key"] for s in reports["01"].data["statistics"]]
    assert workbook.sheetnames == ["summary", *[k[:31] for k in keys]]
    summary = [row for row in workbook["summary"].iter_rows(values_only=True)]
    assert ("Tháng", "2026-10") in [r[:2] for r in summary] or ("Month", "2026-10") in [r[:2] for r in summary]
    sheet = workbook["incidents_by_type_sex_age"]
    table = next(t for t in reports["01"].data["tables"] if t["key"] == "incidents_by_type_sex_age")
    last = list(sheet.iter_rows(values_only=True))[-1]
    assert last[-1] == table["total"]
    median = next(s for s in reports["01"].data["statistics"] if s["key"] == "median_time_to_accept")
    rows = list(workbook["median_time_to_accept"].iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == [v if v is not None else "—" for v in median["values"]]
    assert isinstance(rows[1][1], int | float)  # openpyxl reads 5.0 back as 5


def _pdf_page_count(content: bytes) -> int:
    # reportlab writes the page tree uncompressed: "/Count n" of the /Type /Pages object.
    match = re.search(rb"/Count (\d+)\s*/Kids", content) or re.search(rb"/Type /Pages[^>]*?/Count (\d+)", content)
    assert match, "no page tree found"
    return int(match.group(1))


def test_pdf_has_pages_with_charts_and_the_vietnamese_font(reports):
    file = report_file(reports[None], "pdf")
    assert file.content.startswith(b"%PDF-")
    assert file.content.rstrip().endswith(b"%%EOF")
    assert _pdf_page_count(file.content) >= 3
    assert b"DejaVu" in file.content or b"Liberation" in file.content


def _pdf_drawn(report, monkeypatch) -> tuple[list[str], list[list]]:
    """Every string the PDF draws, in drawing order (reportlab's text operator, where paragraphs, table
    cells and the charts' labels all go: the page streams are compressed and the font subset re-encoded),
    and the rows of every grid it lays out (reports.pdf's Table), in order."""
    from reports import pdf

    drawn, grids = [], []
    real_text, real_table = PDFTextObject._formatText, pdf.Table

    def record(self, text):
        drawn.append(str(text))
        return real_text(self, text)

    def table(rows, *args, **kwargs):
        grids.append(rows)
        return real_table(rows, *args, **kwargs)

    with monkeypatch.context() as patch, translation.override("en"):
        patch.setattr(PDFTextObject, "_formatText", record)
        patch.setattr(pdf, "Table", table)
        report_file(report, "pdf")
    return drawn, grids


def _table_entries(table: dict) -> list:
    """Every value a table publishes as its PDF grid shows it: cells, row totals and the grand total (of a
    table of several columns), column totals."""
    multi = len(table["columns"]) > 1
    values = [value for row in table["cells"] for value in row] + list(table["column_totals"])
    if multi:
        values += list(table["row_totals"]) + [table["total"]]
    return values


def test_the_pdf_draws_the_published_report_and_nothing_about_a_case(reports, monkeypatch):
    """The PDF's grids hold exactly the entries the JSON (and CSV) publish, markers included (a hidden
    count or total is hidden in the PDF too), its headlines are the page's, and no case number, pseudonym,
    agency, account or survivor's name is drawn."""
    from collections import Counter

    from django.contrib.auth import get_user_model

    from agencies.models import Agency
    from cases.models import Case, Survivor

    identifiers = (
        set(Case.objects.values_list("number", flat=True)) | set(Survivor.objects.values_list("pseudonym", flat=True))
        | set(Agency.objects.values_list("name", flat=True))
        | {name for name in get_user_model().objects.values_list("username", flat=True) if len(name) > 3}
        | {s.full_name for s in Survivor.objects.all() if s.full_name}
    )
    assert len(identifiers) > 100
    for report in reports.values():
        drawn, grids = _pdf_drawn(report, monkeypatch)
        text = "\n".join(drawn)
        assert not [name for name in identifiers if name in text]

        data = report.data
        with translation.override("en"):
            expected_headlines = [display(h.value) if h.share is None else f"{display(h.value)} ({h.share}%)"
                                  for h in headlines(data)]
        assert [row[1] for row in grids[0]] == expected_headlines
        published = [t for t in data["tables"] if not t["withheld"]]
        table_grids = grids[1:len(grids) - len(data.get("statistics", []))]
        shown = Counter(value for grid in table_grids for row in grid[1:] for value in row[1:])
        assert shown == Counter(display(v) for table in published for v in _table_entries(table))
        for grid, statistic in zip(grids[len(grids) - len(data.get("statistics", [])):], data.get("statistics", []),
                                   strict=True):
            assert [row[1] for row in grid] == [display(v) for v in statistic["values"]]
        for table in data["tables"]:
            if table["withheld"]:
                assert "Withheld: too few cases to publish this table without identifying someone." in text


def _range(value, threshold: int) -> tuple[float, float]:
    """What a published value says of its count: exact, "<t" (1 … t−1), "x" (at least `threshold`: a
    complementary cell is never small)."""
    if isinstance(value, int):
        return value, value
    if value.startswith("<"):
        return 1, int(value[1:]) - 1
    return threshold, math.inf


def test_the_pdf_charts_by_sex_and_age_say_only_what_the_tables_publish(reports, monkeypatch):
    """A bar adds up the published column totals of the sex (or age band). With a hidden part it showed the
    first part's marker: nationally "Female <5", a count of 1 to 4, where the same report publishes 20, 14,
    33 and 43 among the parts. What the chart shows must be true of every count the tables allow."""
    for report in reports.values():
        drawn, _grids = _pdf_drawn(report, monkeypatch)
        table = next(t for t in report.data["tables"] if t["key"] == "incidents_by_type_sex_age")
        if table["withheld"]:
            continue
        threshold = report.data["thresholds"]["default"]
        for title, part, values in (("Incidents by sex", 0, SEXES), ("Incidents by age at report", 1, AGE_BANDS)):
            start = drawn.index(title)
            for value in values:
                with translation.override("en"):
                    label = value_label("sex" if part == 0 else "age_band", value)
                shown = drawn[drawn.index(label, start) + 1]
                parts = [_range(t, threshold) for c, t in zip(table["columns"], table["column_totals"], strict=True)
                         if c[part] == value]
                low, high = sum(p[0] for p in parts), sum(p[1] for p in parts)
                where = (report.data["scope"], title, label, shown, low, high)
                if shown.isdigit():
                    assert low == high == int(shown), where
                elif shown.startswith("<"):
                    assert high < int(shown[1:]), where
                elif shown == COMPLEMENTARY_MARK:
                    assert low >= threshold, where
                else:
                    assert shown == "—", where


@pytest.mark.parametrize("under_16, aged_16_17, minors", [
    ("<10", 30, COMPLEMENTARY_MARK),  # 31 at least: not "<10"
    ("<10", 0, "<10"),
    ("<10", "<10", None),  # 2 … 18: neither small nor not
    (COMPLEMENTARY_MARK, "<10", COMPLEMENTARY_MARK),
    (12, None, None),  # a withheld part: unknown
    (12, 30, 42),
])
def test_the_minors_headline_says_only_what_its_two_rows_publish(reports, under_16, aged_16_17, minors):
    data = copy.deepcopy(reports[None].data)
    table = next(t for t in data["tables"] if t["key"] == "child_cases")
    table["row_totals"][table["rows"].index("under_16")] = under_16
    table["row_totals"][table["rows"].index("16_17")] = aged_16_17
    assert next(h for h in headlines(data) if h.key == "minors").value == minors


def test_dhis2_json_has_the_documented_shape(reports):
    mapping = dhis2_mapping_load()
    payload = json.loads(report_file(reports["01"], "dhis2").content)
    assert payload["period"] == "202610"
    assert payload["orgUnit"] == "VN01"
    assert payload["dataSet"] == mapping["data_set"]
    assert report_data_value_set(reports[None], mapping)["orgUnit"] == "VN"
    assert payload["dataValues"]
    assert set(payload) == {"dataSet", "period", "orgUnit", "dataValues"}
    for value in payload["dataValues"]:
        assert set(value) == {"dataElement", "categoryOptionCombo", "value"}
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]{10}", value["dataElement"])
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]{10}", value["categoryOptionCombo"])
        assert re.fullmatch(r"\d+(\.\d)?", value["value"])
    medians = mapping["statistics"]["median_time_to_accept"]["rows"]
    statistic = next(s for s in reports["01"].data["statistics"] if s["key"] == "median_time_to_accept")
    sent = {v["dataElement"]: v["value"] for v in payload["dataValues"]}
    for row, value in zip(statistic["rows"], statistic["values"], strict=True):
        if isinstance(value, float):
            assert sent[medians[row]] == str(value)
        else:
            assert medians[row] not in sent
    assert sent[medians["all"]]


def test_dhis2_never_receives_a_hidden_count(reports):
    mapping = dhis2_mapping_load()
    combos = mapping["category_option_combos"]
    rule = mapping["data_elements"]["incidents_by_type_sex_age"]
    for report in reports.values():
        table = next(t for t in report.data["tables"] if t["key"] == "incidents_by_type_sex_age")
        sent = {
            (v["dataElement"], v["categoryOptionCombo"]): v["value"]
            for v in report_data_value_set(report, mapping)["dataValues"]
        }
        for row, cells in zip(table["rows"], table["cells"], strict=True):
            for column, value in zip(table["columns"], cells, strict=True):
                key = (rule["rows"][row], combos["|".join(column)])
                if isinstance(value, int):
                    assert sent[key] == str(value)
                else:
                    assert key not in sent


def test_a_bad_mapping_file_is_reported(tmp_path):
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps({"org_units": {}, "category_option_combos": {}, "data_elements": {"x": {"by": "?"}}}))
    with pytest.raises(Dhis2Error, match="org_units"):
        dhis2_mapping_load(path)
    path.write_text("{not json")
    with pytest.raises(Dhis2Error):
        dhis2_mapping_load(path)
