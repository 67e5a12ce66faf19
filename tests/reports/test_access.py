"""Who may read which report, on every page and endpoint; and that a report page shows no case."""

import pytest
from django.test import Client

from agencies.models import Agency
from cases.models import Case, Survivor

FORMATS = ("csv", "xlsx", "pdf", "dhis2")


@pytest.fixture
def world(published):
    return published.world


def _urls(report):
    return [
        f"/reports/{report.pk}/",
        *[f"/reports/{report.pk}/download/{fmt}/" for fmt in FORMATS],
        f"/api/reports/{report.pk}/",
        *[f"/api/reports/{report.pk}/download/{fmt}/" for fmt in FORMATS],
    ]


def test_national_analyst_reads_every_report(client, world, reports):
    client.force_login(world.analyst)
    for report in reports.values():
        for url in _urls(report):
            assert client.get(url).status_code == 200, url


def test_province_analyst_reads_only_their_province(client, world, reports):
    client.force_login(world.province_analyst)
    for url in _urls(reports["01"]):
        assert client.get(url).status_code == 200, url
    for scope in (None, "46"):
        for url in _urls(reports[scope]):
            assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("who", [
    "lead_responder", "lead_supervisor", "lead_admin", "receiving_responder", "outsider_supervisor", "sysadmin",
])
def test_agency_staff_and_admins_are_refused(client, world, reports, who):
    client.force_login(getattr(world, who))
    for url in _urls(reports[None]) + ["/api/reports/"]:
        assert client.get(url).status_code == 403, url


def test_anonymous_is_sent_to_sign_in_or_refused(world, reports):
    client = Client()
    for url in _urls(reports[None]):
        response = client.get(url)
        if url.startswith("/api/"):
            assert response.status_code in (401, 403), url
        else:
            assert response.status_code == 302 and response["Location"].startswith("/login/"), url
    assert client.get("/api/reports/").status_code in (401, 403)


def test_unknown_format_and_unknown_report(client, world, reports):
    client.force_login(world.analyst)
    assert client.get(f"/reports/{reports[None].pk}/download/docx/").status_code == 404
    assert client.get(f"/api/reports/{reports[None].pk}/download/docx/").status_code == 404
    assert client.get("/reports/999999/").status_code == 404
    assert client.get("/api/reports/999999/").status_code == 404


def test_api_list_follows_the_scope_and_checks_its_filters(client, world, reports, django_assert_max_num_queries):
    client.force_login(world.province_analyst)
    # Session (3 with its save), user, scope, list: no query per report.
    with django_assert_max_num_queries(8):
        body = client.get("/api/reports/").json()
    assert [r["scope"]["province_code"] for r in body["results"]] == ["01"]
    assert body["results"][0]["period"] == "2026-10" and body["results"][0]["latest"] is True
    client.force_login(world.analyst)
    assert len(client.get("/api/reports/?month=2026-10&versions=all").json()["results"]) == 3
    assert client.get("/api/reports/?month=2026-09").json()["results"] == []
    assert client.get("/api/reports/?month=2026-13").status_code == 400
    assert client.get("/api/reports/?versions=some").status_code == 400


def test_api_detail_holds_published_tables_and_headlines(client, world, reports):
    client.force_login(world.analyst)
    body = client.get(f"/api/reports/{reports[None].pk}/").json()
    assert body["data"] == reports[None].data
    assert {h["key"] for h in body["headlines"]} >= {"new_cases", "incidents", "rape_within_72h", "cases_closed",
                                                     "referrals", "referrals_accepted_in_time", "median_time_to_accept",
                                                     "deadlines_missed", "takedown_removed"}
    assert set(body["downloads"]) == set(FORMATS)


def test_report_page_shows_charts_and_tables_but_no_case(client, world, reports, django_assert_max_num_queries):
    client.force_login(world.analyst)
    with django_assert_max_num_queries(12):
        response = client.get(f"/reports/{reports[None].pk}/")
    body = response.content.decode()
    assert body.count("<svg") >= 6
    for key in ("trend", "by_type", "by_sex", "by_age", "by_sector", "referrals_by_sector", "referrals_by_response",
                "by_province"):
        assert f'data-testid="chart-{key}"' in body
    for table in reports[None].data["tables"]:
        assert f'data-testid="table-{table["key"]}"' in body
    median = reports[None].data["statistics"][0]
    assert median["key"] == "median_time_to_accept" and isinstance(median["values"][0], float)
    assert 'data-testid="statistic-median_time_to_accept"' in body
    assert f'<td class="num">{median["values"][0]}</td>' in body.replace(",", ".")
    assert f'data-headline="median_time_to_accept">{median["values"][0]}' in body.replace(",", ".")
    for agency in Agency.objects.all():
        assert agency.name not in body
    for case in Case.objects.all()[:50]:
        assert case.number not in body
    for survivor in Survivor.objects.all()[:50]:
        assert survivor.pseudonym not in body


def test_analyst_home_lists_the_reports_in_scope(client, world, reports):
    client.force_login(world.analyst)
    body = client.get("/reports/").content.decode()
    assert f'href="/reports/{reports[None].pk}/"' in body
    assert f'href="/reports/{reports["46"].pk}/"' in body
    client.force_login(world.province_analyst)
    body = client.get("/reports/").content.decode()
    assert f'href="/reports/{reports["01"].pk}/"' in body
    assert f'href="/reports/{reports[None].pk}/"' not in body
    assert f'href="/reports/{reports["46"].pk}/"' not in body
