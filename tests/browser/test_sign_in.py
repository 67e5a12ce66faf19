"""Signing in on a phone, in Vietnamese, through a real browser."""

import pytest
from playwright.sync_api import expect

from agencies.demo import BUILT_IN_STEPS, seed_demo_world

pytestmark = pytest.mark.browser

USERNAME = "hn.police.responder"
PASSWORD = "hopluc-demo-2026"  # the published demo login


@pytest.fixture
def demo_responder(transactional_db):
    # The demo's agencies and people only, as in the other browser tests: the registered steps (120
    # cases, a year of reports) took minutes per test and nothing here reads them.
    world = seed_demo_world(steps=BUILT_IN_STEPS)
    return world.users[USERNAME]


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_responder_signs_in_on_a_phone_and_reaches_my_work_in_vietnamese(
    live_server, phone_page, demo_responder, screenshot_dir
):
    page = phone_page
    page.goto(f"{live_server.url}/work/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/work/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    assert _fits_the_screen(page)
    page.screenshot(path=str(screenshot_dir / "login-phone-vi.png"), full_page=True)

    page.get_by_label("Tên đăng nhập").fill(USERNAME)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()

    expect(page).to_have_url(f"{live_server.url}/work/")
    expect(page.get_by_test_id("home-responder")).to_have_text("Việc của tôi")
    expect(page.get_by_role("heading", name="Hồ sơ của tôi")).to_be_visible()
    agency = demo_responder.memberships.get().agency
    expect(page.get_by_text(agency.name, exact=True)).to_be_visible()
    expect(page.get_by_test_id("who")).to_have_text(demo_responder.get_full_name())
    expect(page.get_by_test_id("logout")).to_be_visible()
    assert _fits_the_screen(page)
    page.screenshot(path=str(screenshot_dir / "work-phone-vi.png"), full_page=True)

    page.get_by_test_id("logout").click()
    expect(page).to_have_url(f"{live_server.url}/login/")
    expect(page.get_by_text("Bạn đã đăng xuất.")).to_be_visible()
    page.goto(f"{live_server.url}/work/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/work/")


def test_wrong_password_shows_one_neutral_error(live_server, phone_page, demo_responder):
    page = phone_page
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Tên đăng nhập").fill(USERNAME)
    page.get_by_label("Mật khẩu").fill("not-the-password")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_test_id("login-error")).to_have_text("Tên đăng nhập hoặc mật khẩu không đúng.")
    expect(page.get_by_label("Tên đăng nhập")).to_have_value(USERNAME)
    expect(page.get_by_label("Mật khẩu")).to_have_value("")


def test_language_switch_on_a_phone(live_server, phone_page, demo_responder, screenshot_dir):
    page = phone_page
    page.goto(f"{live_server.url}/login/?next=/work/")
    page.get_by_test_id("lang-en").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/work/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("home-responder")).to_have_text("My work")
    page.screenshot(path=str(screenshot_dir / "work-phone-en.png"), full_page=True)

    page.get_by_test_id("lang-vi").click()
    expect(page.get_by_test_id("home-responder")).to_have_text("Việc của tôi")
