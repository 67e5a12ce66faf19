"""A national analyst opens last month's national report on a phone, sees its charts and downloads
it in every format, through a real browser (headless Debian Chromium)."""

import json

import pytest

from reports.periods import last_complete_month, local_today
from reports.services import monthly_reports_build
from tests.browser.conftest import give_second_factor
from tests.conftest import PASSWORD
from tests.reports.conftest import seed_busy_month

pytestmark = pytest.mark.browser


@pytest.fixture
def last_month_reports(transactional_db, world):
    period = last_complete_month(local_today())
    seed_busy_month(world, period)
    return period, monthly_reports_build(period=period)


def test_analyst_opens_last_months_national_report_and_downloads_every_format(
    live_server, phone_page, last_month_reports, tmp_path, screenshot_dir
):
    period, _outcome = last_month_reports
    page = phone_page
    page.goto(f"{live_server.url}/reports/")
    page.get_by_label("Tên đăng nhập").fill("analyst")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    give_second_factor(page, "analyst")

    page.get_by_test_id(f"report-national-{period:%Y-%m}").click()
    title = page.get_by_test_id("report-title")
    assert f"{period:%m/%Y}" in title.inner_text() and "Toàn quốc" in title.inner_text()
    for chart in ("trend", "by_type", "by_sex", "by_age", "by_sector", "by_province"):
        svg = page.get_by_test_id(f"chart-{chart}").locator("svg")
        assert svg.is_visible()
        assert svg.bounding_box()["width"] > 300
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(screenshot_dir / "report-national-phone-vi.png"), full_page=True)

    files = {}
    for fmt in ("csv", "xlsx", "pdf", "dhis2"):
        with page.expect_download() as download_info:
            page.get_by_test_id(f"download-{fmt}").click()
        download = download_info.value
        path = tmp_path / download.suggested_filename
        download.save_as(path)
        files[fmt] = path.read_bytes()
    assert files["csv"].decode("utf-8-sig").startswith("period,scope,version,table")
    assert files["xlsx"].startswith(b"PK")
    assert files["pdf"].startswith(b"%PDF-")
    assert json.loads(files["dhis2"])["period"] == f"{period:%Y%m}"
