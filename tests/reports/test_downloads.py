"""Every report of a built month downloads in every format, through the pages and the API: a month
with data in all 34 provinces (a national chart of 34 provinces is taller than an A4 page) and a
province with 40 communes (its commune chart too), as the demo has. Synthetic data only."""

import csv
import datetime
import io
import json

import pytest
from django.test import Client
from openpyxl import load_workbook

from agencies.models import Commune, Province
from agencies.services import province_load_reference
from reports.charts import figures_within
from reports.downloads import FORMATS
from reports.exports import CSV_HEADER
from reports.services import monthly_reports_build
from reports.summary import Chart, Series

from .conftest import OCTOBER, TODAY, local, make_case, make_incident

COMMUNES = 40


@pytest.fixture
def every_province_month(busy_october):
    """The busy October, plus 1 to 9 cases in each of the other 32 provinces and one incident in
    each of 40 communes of Hà Nội."""
    w = busy_october.world
    province_load_reference()
    provinces = list(Province.objects.exclude(pk__in=[w.hanoi.pk, w.hue.pk]).order_by("code"))
    assert len(provinces) == 32
    for index, province in enumerate(provinces):
        for n in range(1 + index % 9):
            case = make_case(w, created_at=local(2026, 10, 1 + n, 10), province=province, birth_year=1980 + n)
            make_incident(w, case, reported_on=datetime.date(2026, 10, 1 + n), gbv_type="physical_assault",
                          delay="0-3")
    for index in range(COMMUNES):
        commune = Commune.objects.create(code=f"9{index:04d}", name=f"Phường Thử {index}", province=w.hanoi,
                                         valid_from="2025-07-01")
        case = make_case(w, created_at=local(2026, 10, 3, 9), birth_year=1990)
        make_incident(w, case, reported_on=datetime.date(2026, 10, 3), gbv_type="psychological_abuse",
                      commune=commune)
    outcome = monthly_reports_build(period=OCTOBER, today=TODAY)
    return {(r.province.code if r.province_id else None): r for r in outcome.created}


def _check_body(fmt: str, response, report) -> None:
    content = response.content
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        assert tuple(rows[0]) == CSV_HEADER and len(rows) > 1
        assert {r[0] for r in rows[1:]} == {"2026-10"}
    elif fmt == "xlsx":
        workbook = load_workbook(io.BytesIO(content))
        assert workbook.sheetnames[0] == "summary" and len(workbook.sheetnames) > 1
    elif fmt == "pdf":
        assert content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")
    elif fmt == "dhis2":
        payload = json.loads(content)
        assert payload["period"] == "202610" and payload["dataSet"] and payload["dataValues"]
        assert payload["orgUnit"] == ("VN" if report.is_national else f"VN{report.province.code}")
    else:
        pytest.fail(f"no check for the format {fmt}")


def test_every_format_of_every_scope_downloads(client, world, every_province_month):
    reports = every_province_month
    assert len(reports) == 35
    client.force_login(world.analyst)
    for report in reports.values():
        assert client.get(f"/reports/{report.pk}/").status_code == 200
        detail = client.get(f"/api/reports/{report.pk}/")
        assert detail.status_code == 200 and set(detail.json()["downloads"]) == set(FORMATS)
        for fmt in FORMATS:
            urls = [f"/api/reports/{report.pk}/download/{fmt}/"]
            if report.is_national or report.province.code == "01":  # the page's links: the same files
                urls.append(f"/reports/{report.pk}/download/{fmt}/")
            for url in urls:
                response = client.get(url)
                assert response.status_code == 200, url
                assert response["Content-Disposition"].startswith("attachment; filename=")
                _check_body(fmt, response, report)


def test_the_downloads_of_other_scopes_are_refused(world, every_province_month):
    """A provincial analyst of Hà Nội, a responder and an anonymous caller get none of them."""
    others = [every_province_month[None], every_province_month["79"], every_province_month["46"]]
    urls = [u for r in others for fmt in FORMATS
            for u in (f"/api/reports/{r.pk}/download/{fmt}/", f"/reports/{r.pk}/download/{fmt}/")]
    province_analyst, responder, anonymous = Client(), Client(), Client()
    province_analyst.force_login(world.province_analyst)
    responder.force_login(world.lead_responder)
    for url in urls:
        assert province_analyst.get(url).status_code == 404, url
        assert responder.get(url).status_code == 403, url
        response = anonymous.get(url)
        assert response.status_code in ((401, 403) if url.startswith("/api/") else (302,)), url


def test_a_chart_taller_than_a_page_is_split_on_one_axis():
    chart = Chart(key="by_province", title="Incidents by province", kind="bar",
                  categories=[f"P{n:02d}" for n in range(34)],
                  series=[Series("Incidents", [n if n % 3 else "<5" for n in range(34)])])
    parts = figures_within(chart, 600)
    assert len(parts) == 2
    assert all(part.height <= 600 for part in parts)
    labels = [item.text for part in parts for item in part.items if getattr(item, "anchor", "") == "end"
              and item.text.startswith("P")]
    assert labels == chart.categories
    axis = [[item.text for item in part.items if getattr(item, "anchor", "") == "middle"] for part in parts]
    assert axis[0] == axis[1]  # the same ticks: bars compare across the parts
    assert figures_within(Chart("x", "x", "bar", ["a", "b"], [Series("s", [1, 2])]), 600)[0].height < 600
