"""Publishing monthly reports: snapshots, immutability, corrections, the schedule and the command."""

import datetime
import hashlib
import json
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from agencies.models import Agency, Province
from cases.models import Case, Survivor
from config.celery import app
from reports import services
from reports.models import MonthlyReport, ReportImmutableError
from reports.periods import PeriodError
from reports.selectors import monthly_report_trend, report_recipients
from reports.services import (
    ReportScopeError,
    code_version,
    monthly_report_correct,
    monthly_reports_build,
    monthly_reports_due,
)
from reports.tasks import build_due_monthly_reports
from tests.support.killed import Killed, killed_at_call

from .conftest import OCTOBER, TODAY, local, make_case, make_incident

d = datetime.date


def _by_scope(reports):
    return {(r.province.code if r.province_id else None): r for r in reports}


def test_build_publishes_version_1_for_national_and_every_province(october):
    outcome = monthly_reports_build(period=OCTOBER, today=TODAY)
    reports = _by_scope(outcome.created)
    assert set(reports) == {None, "01", "46"}
    national = reports[None]
    assert (national.version, national.period, national.supersedes, national.reason) == (1, OCTOBER, None, "")
    assert national.data["period"] == "2026-10" and national.data["scope"] == {"level": "national"}
    assert reports["01"].data["scope"] == {"level": "province", "code": "01", "name": "Hà Nội"}
    canonical = json.dumps(national.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert national.content_hash == hashlib.sha256(canonical).hexdigest()
    assert national.code_version


def test_published_data_names_no_agency_case_or_survivor(october):
    outcome = monthly_reports_build(period=OCTOBER, today=TODAY)
    text = json.dumps([r.data for r in outcome.created], ensure_ascii=False)
    for agency in Agency.objects.all():
        assert agency.name not in text
    for case in Case.objects.all():
        assert case.number not in text
    for survivor in Survivor.objects.all():
        assert survivor.pseudonym not in text
    # Counts 1..4 never appear as numbers in these tiny tables: every count here is hidden or 0.
    for report in outcome.created:
        for table in report.data["tables"]:
            values = [v for row in table["cells"] for v in row] + table["row_totals"] + table["column_totals"]
            assert not any(isinstance(v, int) and 1 <= v < table["threshold"] for v in values)


def test_code_version_comes_from_git_commit(monkeypatch):
    code_version.cache_clear()
    monkeypatch.setenv("GIT_COMMIT", "abc123")
    try:
        assert code_version() == "abc123"
    finally:
        code_version.cache_clear()


def test_building_twice_publishes_nothing_new(october):
    first = monthly_reports_build(period=OCTOBER, today=TODAY)
    second = monthly_reports_build(period=OCTOBER, today=TODAY)
    assert second.created == []
    assert {r.pk for r in second.existing} == {r.pk for r in first.created}
    assert MonthlyReport.objects.count() == 3


def test_one_scope_built_alone_agrees_with_the_joint_build(october):
    alone = monthly_reports_build(period=OCTOBER, scopes=["01"], today=TODAY).created
    assert [r.province.code for r in alone] == ["01"]
    rest = monthly_reports_build(period=OCTOBER, today=TODAY)
    assert {r.province.code if r.province_id else None for r in rest.created} == {None, "46"}
    assert [r.pk for r in rest.existing] == [alone[0].pk]


def test_unfinished_months_and_unknown_scopes_are_refused(october):
    with pytest.raises(PeriodError):
        monthly_reports_build(period=d(2026, 11, 1), today=TODAY)
    with pytest.raises(PeriodError):
        monthly_reports_build(period=d(2027, 1, 1), today=TODAY)
    with pytest.raises(ReportScopeError):
        monthly_reports_build(period=OCTOBER, scopes=["99"], today=TODAY)
    assert not MonthlyReport.objects.exists()


def test_a_published_report_cannot_be_changed(october):
    report = monthly_reports_build(period=OCTOBER, scopes=[None], today=TODAY).created[0]
    report.reason = "edited"
    with pytest.raises(ReportImmutableError):
        report.save()
    with pytest.raises(ReportImmutableError):
        report.delete()
    # The database refuses an UPDATE that bypasses the model.
    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyReport.objects.filter(pk=report.pk).update(data={"tampered": True})
    report.refresh_from_db()
    assert report.data["period"] == "2026-10"


def test_the_database_keeps_one_version_1_per_scope_and_month(october):
    report = monthly_reports_build(period=OCTOBER, scopes=[None], today=TODAY).created[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyReport.objects.create(
            period=OCTOBER, version=1, published_at=timezone.now(), data={}, content_hash="0" * 64, code_version="x",
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyReport.objects.create(
            period=OCTOBER, version=2, published_at=timezone.now(), data={}, content_hash="0" * 64, code_version="x",
            supersedes=report,
        )  # a correction without a reason


def test_a_correction_is_a_new_version_and_the_old_one_stays(october, world):
    first = monthly_reports_build(period=OCTOBER, scopes=[None], today=TODAY).created[0]
    assert monthly_report_correct(period=OCTOBER, scope=None, reason="late entry", today=TODAY) is None
    with pytest.raises(ValueError):
        monthly_report_correct(period=OCTOBER, scope=None, reason="  ", today=TODAY)
    for _ in range(6):
        case = make_case(world, created_at=local(2026, 10, 20))
        make_incident(world, case, reported_on=d(2026, 10, 20), gbv_type="rape")
    second = monthly_report_correct(period=OCTOBER, scope=None, reason="Six cases entered late", today=TODAY)
    assert (second.version, second.supersedes_id, second.reason) == (2, first.pk, "Six cases entered late")
    assert second.content_hash != first.content_hash
    first.refresh_from_db()
    assert first.data["period"] == "2026-10"
    with pytest.raises(ReportScopeError):
        monthly_report_correct(period=d(2026, 9, 1), scope=None, reason="nothing to correct", today=TODAY)


def test_trend_uses_versions_published_no_later_than_the_report(world):
    reports = []
    for month in (8, 9, 10):
        reports += monthly_reports_build(period=d(2026, month, 1), scopes=[None], today=TODAY).created
    trend = monthly_report_trend(report=reports[-1])
    assert [r.period.month for r in trend] == [8, 9, 10]
    assert [r.period.month for r in monthly_report_trend(report=reports[1])] == [8, 9]


def test_due_months_catch_up_missed_months_within_the_bound(world, settings):
    assert monthly_reports_due(today=TODAY) == [OCTOBER]
    monthly_reports_build(period=d(2026, 7, 1), scopes=[None], today=TODAY)
    assert monthly_reports_due(today=TODAY) == [d(2026, 8, 1), d(2026, 9, 1), OCTOBER]
    settings.REPORT_CATCH_UP_MONTHS = 2
    assert monthly_reports_due(today=TODAY) == [d(2026, 9, 1), OCTOBER]
    assert monthly_reports_due(today=d(2026, 8, 1)) == []


def test_the_scheduled_task_builds_each_month_and_scope_once(october):
    monthly_reports_build(period=d(2026, 8, 1), today=TODAY)
    first = build_due_monthly_reports(today=TODAY.isoformat())
    assert first == [
        {"period": "2026-09", "created": 3, "existing": 0},
        {"period": "2026-10", "created": 3, "existing": 0},
    ]
    assert build_due_monthly_reports(today=TODAY.isoformat()) == []
    # Replaying the run of 1 November changes nothing either.
    assert build_due_monthly_reports(today="2026-11-01") == []
    counts = MonthlyReport.objects.values_list("period", "province__code").distinct().count()
    assert counts == MonthlyReport.objects.count() == 9


def test_beat_runs_the_task_at_02_00_on_the_first_of_each_month_in_viet_nam():
    entry = settings.CELERY_BEAT_SCHEDULE["monthly-reports"]
    assert entry["task"] == build_due_monthly_reports.name
    schedule = entry["schedule"]
    schedule.app = app
    ict = ZoneInfo("Asia/Ho_Chi_Minh")
    assert str(app.conf.timezone) == "Asia/Ho_Chi_Minh"
    runs, last = [], datetime.datetime(2026, 1, 1, 2, 0, tzinfo=ict)
    for _ in range(12):
        _start, delta, _now = schedule.remaining_delta(last, tz=ict)
        last = last + delta
        runs.append(last)
    assert [(r.month, r.day, r.hour, r.minute) for r in runs] == [(m % 12 + 1, 1, 2, 0) for m in range(1, 13)]


def test_report_recipients_are_the_analysts_of_exactly_the_scope(october):
    reports = _by_scope(monthly_reports_build(period=OCTOBER, today=TODAY).created)
    # National analysts are told about the national report only, not about each province's.
    assert list(report_recipients(report=reports[None])) == [october.world.analyst]
    assert list(report_recipients(report=reports["01"])) == [october.world.province_analyst]
    assert list(report_recipients(report=reports["46"])) == []


def test_command_builds_once_and_reports_bad_input(october):
    out = StringIO()
    call_command("build_monthly_report", "--month", "2026-10", stdout=out)
    assert "3" in out.getvalue()
    out = StringIO()
    call_command("build_monthly_report", "--month", "2026-10", "--scope", "national", stdout=out)
    assert MonthlyReport.objects.count() == 3
    for args, message in [
        (["--month", "2026-1"], "YYYY-MM"),
        (["--month", "October"], "YYYY-MM"),
        (["--month", "2099-01"], "not over"),
        (["--month", f"{timezone.localdate():%Y-%m}"], "not over"),
        (["--month", "2026-10", "--scope", "province:99"], "99"),
        (["--month", "2026-10", "--scope", "commune:01"], "--scope"),
        (["--month", "2026-10", "--correct", "typo"], "one --scope"),
        # Not silently ignored: whoever asked would wait for a notice that never comes.
        (["--month", "2026-10", "--scope", "national", "--requested-by", "analyst"], "--requested-by"),
    ]:
        with pytest.raises(CommandError, match=message), translation.override("en"):
            call_command("build_monthly_report", *args, stdout=StringIO())


@pytest.mark.parametrize("args", [
    ["--month", "2026-10\x00"],
    ["--month", "2026-10", "--scope", "province:0\x001"],
    ["--month", "2026-10", "--scope", "province:46", "--correct", "Late\x00entries"],
    ["--month", "2026-10", "--scope", "province:46", "--correct", "Late entries", "--requested-by", "ad\x00min"],
])
def test_command_refuses_a_nul_character_in_any_argument(october, world, args):
    """Typed or pasted at a shell: refused with a message, never a database error's traceback (PostgreSQL's
    text takes no NUL), and never kept in a published reason."""
    call_command("build_monthly_report", "--month", "2026-10", stdout=StringIO())
    for _ in range(5):
        make_case(world, created_at=local(2026, 10, 3), province=world.hue, lead=world.school)
    with pytest.raises(CommandError, match="NUL"), translation.override("en"):
        call_command("build_monthly_report", *args, stdout=StringIO())
    assert MonthlyReport.objects.count() == 3


def test_a_build_cut_short_publishes_nothing_and_running_it_again_publishes_every_scope(october, monkeypatch):
    """The month's scopes are published in one transaction: killed after the first report is written,
    none of them stands (nor is anyone told), and the next run publishes them all."""
    with killed_at_call(monkeypatch, services, "content_hash", calls=1), pytest.raises(Killed):
        call_command("build_monthly_report", "--month", "2026-10", stdout=StringIO())
    assert not MonthlyReport.objects.exists()
    call_command("build_monthly_report", "--month", "2026-10", stdout=StringIO())
    assert MonthlyReport.objects.count() == 3


def test_command_publishes_a_correction(october, world):
    call_command("build_monthly_report", "--month", "2026-10", stdout=StringIO())
    for _ in range(5):
        make_case(world, created_at=local(2026, 10, 3), province=world.hue, lead=world.school)
    out = StringIO()
    call_command("build_monthly_report", "--month", "2026-10", "--scope", "province:46", "--correct", "Late entries",
                 stdout=out)
    assert "2" in out.getvalue()
    report = MonthlyReport.objects.get(province__code="46", version=2)
    assert report.reason == "Late entries"


@pytest.mark.parametrize("reason", [
    "Late entries of HN-2026-000123", "late entries of hue-2026-000004", "Mother called from 0912 345 678",
    "Số điện thoại +84 912.345.678 đã gọi",
])
def test_a_correction_reason_naming_a_case_or_a_phone_is_refused(october, world, reason):
    """The reason is published with the report, in every format (the PDF prints it under the title), to
    every analyst of the scope, and a published report never changes: a case number or a phone number
    typed into it would be there for good."""
    call_command("build_monthly_report", "--month", "2026-10", stdout=StringIO())
    for _ in range(5):
        make_case(world, created_at=local(2026, 10, 3), province=world.hue, lead=world.school)
    with pytest.raises(CommandError, match="case number or a phone number"), translation.override("en"):
        call_command("build_monthly_report", "--month", "2026-10", "--scope", "province:46", "--correct", reason,
                     stdout=StringIO())
    assert MonthlyReport.objects.count() == 3
    # A month, a date or a count is not taken for one.
    call_command("build_monthly_report", "--month", "2026-10", "--scope", "province:46", "--correct",
                 "Late entries of 2026-10-31: 5 cases", stdout=StringIO())
    assert MonthlyReport.objects.count() == 4


def test_a_province_no_longer_in_force_still_gets_a_report_when_it_has_data(world):
    old = Province.objects.create(code="99", name="Tỉnh cũ", name_ascii="Tinh cu", abbreviation="OLD", type="province",
                                  valid_from="2000-01-01", valid_to="2025-06-30")
    outcome = monthly_reports_build(period=OCTOBER, today=TODAY)
    assert "99" not in _by_scope(outcome.created)
    case = make_case(world, created_at=local(2025, 5, 3), province=old)
    make_incident(world, case, reported_on=d(2025, 5, 3), gbv_type="rape")
    outcome = monthly_reports_build(period=d(2025, 5, 1), today=TODAY)
    assert "99" in _by_scope(outcome.created)


def test_the_service_module_writes_only_its_own_table():
    with open(services.__file__, encoding="utf-8") as file:
        source = file.read()
    for model in ("Case", "Incident", "Action", "Survivor", "Agency"):
        assert f"{model}.objects" not in source


def test_analyst_home_without_reports_says_so(client, world):
    """(Beside test_access.py's test_analyst_home_lists_the_reports_in_scope, whose module has every test's
    world published.)"""
    client.force_login(world.analyst)
    assert 'data-testid="report-list"' not in client.get("/reports/").content.decode()
