"""A supervisor signs in with a code from an authenticator app, on a phone, in Vietnamese; a new
supervisor enrols one by reading the key off the enrolment page."""

import base64
import time

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.mfa import demo_totp_code
from agencies.demo import BUILT_IN_STEPS, DEMO_PASSWORD, seed_demo_world
from agencies.models import Role
from agencies.services import membership_add

pytestmark = pytest.mark.browser

SUPERVISOR = "hn.police.supervisor"


@pytest.fixture
def demo(transactional_db):
    from accounts.mfa import seed_demo_second_factor_step

    # The built-in people plus the demo second factor: what `make run` gives, without the cases.
    return seed_demo_world(steps=(*BUILT_IN_STEPS, seed_demo_second_factor_step))


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _password_step(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/supervision/")
    expect(page).to_have_url(f"{base_url}/login/?next=/supervision/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def test_a_supervisor_signs_in_with_the_code_from_their_phone(live_server, phone_page, demo, screenshot_dir):
    page = phone_page
    _password_step(page, live_server.url, SUPERVISOR)

    expect(page).to_have_url(f"{live_server.url}/login/code/?next=%2Fsupervision%2F")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", name="Nhập mã của bạn")).to_be_visible()
    assert page.viewport_size == {"width": 390, "height": 844}
    assert _fits_the_screen(page)
    page.screenshot(path=str(screenshot_dir / "second-factor-phone-vi.png"), full_page=True)
    # Nothing else is reachable with the password alone.
    page.goto(f"{live_server.url}/cases/")
    expect(page).to_have_url(f"{live_server.url}/login/code/?next=%2Fcases%2F")
    page.go_back()

    page.get_by_label("Mã", exact=True).fill("000000")
    page.get_by_role("button", name="Tiếp tục").click()
    expect(page.get_by_test_id("mfa-error")).to_contain_text("Mã không đúng")
    time.sleep(1.1)  # django-otp makes the next try wait a second after a wrong code

    page.get_by_label("Mã", exact=True).fill(demo_totp_code())
    page.get_by_role("button", name="Tiếp tục").click()
    expect(page).to_have_url(f"{live_server.url}/supervision/")
    expect(page.get_by_test_id("who")).to_have_text(demo.users[SUPERVISOR].get_full_name())
    assert _fits_the_screen(page)


def test_a_new_supervisor_enrols_an_authenticator_on_a_phone(live_server, phone_page, demo, screenshot_dir):
    user = get_user_model().objects.create_user(username="hn.police.new", password=DEMO_PASSWORD,
                                                first_name="Nguyễn Thị Mới")
    membership_add(user=user, agency=demo.agencies[("hn", "police")], role=Role.SUPERVISOR)
    page = phone_page
    _password_step(page, live_server.url, "hn.police.new")

    expect(page).to_have_url(f"{live_server.url}/account/second-factor/?next=%2Fsupervision%2F")
    expect(page.get_by_role("heading", name="Thiết lập yếu tố xác thực thứ hai")).to_be_visible()
    qr = page.get_by_test_id("mfa-qr").locator("svg")
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 150
    assert _fits_the_screen(page)
    page.screenshot(path=str(screenshot_dir / "second-factor-enrol-phone-vi.png"), full_page=True)

    # What a person types into their app when they cannot scan: the key shown on the page.
    secret = page.get_by_test_id("mfa-secret").inner_text().replace(" ", "")
    totp = TOTP(base64.b32decode(secret + "=" * (-len(secret) % 8)))
    totp.time = time.time()
    page.get_by_label("Mã", exact=True).fill(f"{totp.token():06d}")
    page.get_by_role("button", name="Xác nhận").click()

    expect(page.get_by_role("heading", name="Mã khôi phục của bạn")).to_be_visible()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    assert _fits_the_screen(page)
    page.get_by_test_id("mfa-continue").click()
    expect(page).to_have_url(f"{live_server.url}/supervision/")
    assert TOTPDevice.objects.get(user=user).confirmed
