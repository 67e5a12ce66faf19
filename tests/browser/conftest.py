"""Browser fixtures: headless Debian Chromium driven by Playwright's sync API against live_server.

Playwright is never asked to download a browser; the system's /usr/bin/chromium is used, and the
browser tests are skipped (with the reason) only when it is missing.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
# How long a browser action (a navigation, a click, a screenshot) may take before the test fails: these
# tests check what the pages do, not how fast (benchmarks/ measure that), and on a loaded 2-core machine
# (CI's two suites beside other work) a page with a large script (the API docs) or a screenshot took
# over the 10 s that was set here.
ACTION_TIMEOUT_MS = 30_000
SCREENSHOT_DIR = Path(os.environ.get("HOPLUC_VAR_DIR", "/tmp")) / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in this thread, which makes Django refuse
    # ORM calls from the tests (SynchronousOnlyOperation); the ORM is used synchronously here. The
    # variable is taken back when the browser closes (subprocess tests strip it anyway).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def phone(browser):
    """A fresh phone-sized browser context (its own cookies) with a Vietnamese browser locale."""
    context = browser.new_context(
        viewport=PHONE, screen=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def phone_page(phone):
    return phone.new_page()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


def give_second_factor(page, username: str) -> None:
    """The code step after the password, for someone who needs one: their authenticator holds the
    demo secret (enrolled here when they have none, as seed_demo does) and the code typed in is the
    one a phone would show now. Does nothing for someone who needs no second factor."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.mfa import demo_totp_device_ensure
    from tests.conftest import current_code

    user = get_user_model().objects.get(username=username)
    demo_totp_device_ensure(user=user)
    page.wait_for_url(lambda url: urlsplit(url).path != "/login/")
    if urlsplit(page.url).path == "/account/second-factor/":
        # The enrolment page was shown before the authenticator above existed: go to the code step.
        page.goto(page.url.replace("/account/second-factor/", "/login/code/", 1))
    if urlsplit(page.url).path != "/login/code/":
        return
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    page.locator("#id_code").fill(current_code(device))
    page.locator("[data-testid=mfa-verify] button[type=submit]").click()
    page.wait_for_url(lambda url: urlsplit(url).path != "/login/code/")


def fits_the_screen(page) -> bool:
    """Nothing wider than the viewport: no sideways scrolling on a phone."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def sign_in_as(page, base_url: str, username: str, next_path: str | None = None) -> None:
    """Sign a demo user in through the form (the published demo password), then the code step;
    without next_path the sign-in lands where the login page sends that user."""
    from agencies.demo import DEMO_PASSWORD

    page.goto(f"{base_url}/login/" if next_path is None else f"{base_url}/login/?next={next_path}")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("button[type=submit].primary").click()
    give_second_factor(page, username)


def consent_record_medical(page, receiving_agency) -> None:
    """On a case page: the survivor agrees to medical data for receiving_agency, not to her identity."""
    page.get_by_test_id("record-consent").click()
    consent = page.get_by_test_id("consent-form")
    consent.locator("[name=receiving_agency]").select_option(str(receiving_agency.pk))
    consent.locator("[name=granted_categories][value=medical]").check()
    consent.locator("[name=refused_categories][value=identity]").check()
    consent.locator("[name=purpose]").fill("Khám và điều trị")
    consent.locator("[name=given_by][value=survivor]").check()
    page.get_by_test_id("save-consent").click()


def demo_case_open(world, *, name: str, birth_year: int, risk_level: str, tech_forms=(), consent=None):
    """A case of the demo world's Hà Nội police, opened through the edge by its responder for a woman or
    girl physically assaulted, with the consent given (None: none yet)."""
    from tests.cases.services_helpers import case_open_through_edge

    police = world.agencies[("hn", "police")]
    answers = {"penetration": False, "sexual_contact": False, "physical_assault": True, "forced_marriage": False,
               "denial_of_resources": False, "psychological_abuse": False}
    return case_open_through_edge(
        actor=world.users["hn.police.responder"], agency=police, risk_level=risk_level,
        survivor={"full_name": name, "sex": "female", "birth_year": birth_year},
        incident={"province": police.province, "answers": answers, "tech_forms": list(tech_forms)}, consent=consent)


def demo_world_with_time_limits(steps=None):
    """The demo world (the built-in steps unless told) and the legal time limits its handoffs need
    (a transactional test's flush empties the rows the data migration loaded)."""
    from agencies.demo import BUILT_IN_STEPS, seed_demo_world
    from tests.conftest import time_limits_ensure

    world = seed_demo_world(steps=BUILT_IN_STEPS if steps is None else steps)
    time_limits_ensure()
    return world
