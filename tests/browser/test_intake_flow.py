"""The guided intake on a phone (390×844, Vietnamese): the sextortion case of issue 16 in at most
25 taps and 6 page loads, Enter that submits nothing, the error summary that takes focus and
links to each field, and the idle-timeout warning with "stay signed in", then a timeout after which
the unfinished case is offered again.

Taps are counted as a person would make them: a click or key press on a control is one tap,
typing a field's text is one, choosing from a drop-down list is two (open it, pick). Page loads
are the page's "load" events, counted from the home page on.
"""

import time

import pytest
from playwright.sync_api import expect

from agencies.demo import BUILT_IN_STEPS, DEMO_PASSWORD, seed_demo_world
from cases.models import Case, Consent, IntakeDraft
from tests.browser.conftest import sign_in_as

pytestmark = pytest.mark.browser

USERNAME = "hn.police.responder"
MAX_TAPS = 25
MAX_LOADS = 6


@pytest.fixture
def demo(transactional_db):
    return seed_demo_world(steps=BUILT_IN_STEPS)


def _sign_in(page, base_url: str, next_path: str = "/work/") -> None:
    sign_in_as(page, base_url, USERNAME, next_path)


class Counter:
    """Taps and page loads of one person on one page."""

    def __init__(self, page):
        self.page, self.taps, self.loads = page, 0, 0
        page.on("load", self._loaded)

    def _loaded(self, _page) -> None:
        self.loads += 1

    def tap(self, locator) -> None:
        locator.click()
        self.taps += 1

    def type(self, locator, text: str) -> None:
        locator.fill(text)
        self.taps += 1

    def choose(self, locator, value: str) -> None:
        locator.select_option(value)
        self.taps += 2


def _label(page, name: str, value: str):
    """The visible label of a radio button or checkbox (what a finger taps)."""
    return page.locator(f"label:has(input[name={name}][value={value}])")


def test_the_sextortion_case_of_a_child_in_at_most_25_taps_and_6_page_loads(live_server, phone_page, demo,
                                                                             screenshot_dir):
    page = phone_page
    commune = demo.communes["hn"][3]
    _sign_in(page, live_server.url)
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    count = Counter(page)

    count.tap(page.get_by_test_id("open-case"))
    expect(page.get_by_test_id("intake-step-title")).to_have_text("Người bị bạo lực")
    # The guardian's fields appear when the age typed is a child's, without a round trip.
    expect(page.get_by_test_id("child-fields")).to_be_hidden()
    count.type(page.locator("[name=full_name]"), "Vũ Thị Hạnh")
    count.type(page.locator("[name=age]"), "15")
    expect(page.get_by_test_id("child-fields")).to_be_visible()
    count.type(page.locator("[name=phone]"), "0934 567 890")
    count.type(page.locator("[name=guardian_name]"), "Vũ Văn Toàn")
    count.type(page.locator("[name=guardian_phone]"), "0912 765 432")
    page.screenshot(path=str(screenshot_dir / "intake-who-phone-vi.png"), full_page=True)
    count.tap(page.get_by_test_id("intake-next"))

    expect(page.get_by_test_id("intake-step-title")).to_have_text("Sự việc đã xảy ra")
    count.tap(_label(page, "what_happened", "psychological_abuse"))
    count.tap(_label(page, "tech_forms", "sextortion"))
    count.choose(page.locator("[name=perpetrator_relationship]"), "online_contact")
    # Typing part of the name offers the list; the full name is what is left in the field.
    count.type(page.locator("[name=commune_name]"), commune.name)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(screenshot_dir / "intake-what-phone-vi.png"), full_page=True)
    count.tap(page.get_by_test_id("intake-next"))

    count.tap(_label(page, "risk_level", "high"))
    count.tap(page.get_by_test_id("intake-next"))

    expect(page.get_by_test_id("consent-fields")).to_be_hidden()
    count.tap(_label(page, "share", "yes"))
    expect(page.get_by_test_id("consent-fields")).to_be_visible()
    count.choose(page.locator("[name=consent_receiving_sector]"), "social_work")
    count.tap(_label(page, "consent_granted_categories", "contact"))
    count.tap(_label(page, "consent_granted_categories", "psychosocial"))
    count.type(page.locator("[name=consent_purpose]"), "Hỗ trợ tâm lý và bảo vệ trẻ em")
    # A 15-year-old consents together with a parent: chosen already, and the relationship is asked.
    expect(page.locator("[name=consent_given_by][value=survivor_and_guardian]")).to_be_checked()
    count.type(page.locator("[name=consent_guardian_relationship]"), "Bố")
    page.screenshot(path=str(screenshot_dir / "intake-consent-phone-vi.png"), full_page=True)
    count.tap(page.get_by_test_id("intake-next"))

    expect(page.get_by_test_id("check-answers")).to_contain_text("Vũ Thị Hạnh")
    expect(page.get_by_test_id("check-answers")).to_contain_text(commune.name)
    page.screenshot(path=str(screenshot_dir / "intake-check-phone-vi.png"), full_page=True)
    count.tap(page.get_by_test_id("intake-open"))

    case = Case.objects.get()
    expect(page).to_have_url(f"{live_server.url}/cases/{case.pk}/")
    expect(page.get_by_test_id("case-number")).to_have_text(case.number)
    incident = case.incidents.get()
    assert incident.gbv_type == "psychological_abuse" and incident.commune_id == commune.pk
    assert list(incident.tech_form_rows.values_list("form", flat=True)) == ["sextortion"]
    assert case.risk_level == "high" and case.survivor.guardian_name == "Vũ Văn Toàn"
    consent = Consent.objects.get(case=case)
    assert consent.receiving_sector == "social_work" and consent.given_by == "survivor_and_guardian"
    assert consent.granted_categories == ["contact", "psychosocial"]
    assert not IntakeDraft.objects.exists()
    print(f"\nintake of the sextortion case: {count.taps} taps, {count.loads} page loads")
    assert count.taps <= MAX_TAPS and count.loads <= MAX_LOADS, (count.taps, count.loads)


def test_enter_submits_nothing_and_the_error_summary_takes_focus(live_server, phone_page, demo):
    page = phone_page
    _sign_in(page, live_server.url, "/cases/intake/")
    count = Counter(page)
    name = page.locator("[name=full_name]")
    name.fill("Vũ Thị Hạnh")
    name.press("Enter")
    page.locator("[name=age]").fill("15")
    page.locator("[name=age]").press("Enter")
    page.wait_for_timeout(500)
    assert count.loads == 0 and not IntakeDraft.objects.exists()
    expect(page).to_have_url(f"{live_server.url}/cases/intake/")

    page.locator("[name=birth_year]").fill("2010")
    page.locator("[name=phone]").fill("gọi sau")
    page.get_by_test_id("intake-next").click()
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    links = summary.locator("a")
    expect(links).to_have_count(2)
    # What was typed is still there, and saved.
    expect(page.locator("[name=full_name]")).to_have_value("Vũ Thị Hạnh")
    assert IntakeDraft.objects.count() == 1
    links.nth(1).click()
    expect(page.locator("#id_phone")).to_be_focused()
    links.nth(0).click()
    expect(page.locator("#id_age")).to_be_focused()


def test_the_idle_warning_stays_signed_in_and_a_timeout_keeps_the_draft(live_server, phone_page, demo, settings):
    settings.SESSION_COOKIE_AGE = 12
    settings.SESSION_WARNING_SECONDS = 8
    # Every request writes the session's expiry, so the countdown a page shows starts at that page's request.
    # With the default (60 s, more than this test's whole session) no request after the sign-in would be far
    # enough behind to write it, and the step loaded below would count down from the sign-in: its warning came
    # 3.4 s after the click once, when the test's typing took a second under three processes.
    settings.SESSION_RENEW_SECONDS = 0
    page = phone_page
    _sign_in(page, live_server.url, "/cases/intake/")
    page.locator("[name=full_name]").fill("Vũ Thị Hạnh")
    page.locator("[name=age]").fill("24")
    # The page's countdown starts when the next step loads, after this click and before `loaded`: the warning
    # is due 4 s after the load, so at least 4 s after the click however slowly the test itself goes on.
    clicked = time.monotonic()
    page.get_by_test_id("intake-next").click()
    expect(page.get_by_test_id("intake-step-title")).to_have_text("Sự việc đã xảy ra")
    draft = IntakeDraft.objects.get()
    loaded = time.monotonic()

    warning = page.get_by_test_id("session-warning")
    expect(warning).to_be_hidden()
    expect(warning).to_be_visible(timeout=8_000)
    assert time.monotonic() - clicked >= 3.5
    expect(warning).to_have_attribute("role", "alertdialog")
    expect(page.get_by_test_id("session-stay")).to_be_focused()
    page.get_by_test_id("session-stay").click()
    expect(warning).to_be_hidden()
    stayed = time.monotonic()

    # Past the end of the session as it was before "stay signed in", still signed in.
    page.wait_for_timeout(max(0, (loaded + 13 - time.monotonic()) * 1000))
    assert time.monotonic() - stayed < 11
    page.goto(f"{live_server.url}/cases/intake/{draft.pk}/what/")
    expect(page.get_by_test_id("intake-step-title")).to_have_text("Sự việc đã xảy ra")

    # Now nobody answers: the box says the session ended (nothing reloads by itself)...
    ended = page.get_by_test_id("session-ended")
    expect(ended).to_be_visible(timeout=20_000)
    expect(ended).to_contain_text("Bạn đã bị đăng xuất")
    expect(page.get_by_test_id("session-stay")).to_be_hidden()
    expect(page).to_have_url(f"{live_server.url}/cases/intake/{draft.pk}/what/")
    page.wait_for_timeout(1_000)
    # ...and it has: the next page is the sign-in page. After signing in the case is offered again.
    page.goto(f"{live_server.url}/work/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/work/")
    settings.SESSION_COOKIE_AGE = 600
    page.locator("#id_username").fill(USERNAME)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("button[type=submit].primary").click()
    offer = page.get_by_test_id("intake-resume")
    expect(offer).to_be_visible()
    offer.get_by_test_id("draft-continue").click()
    expect(page).to_have_url(f"{live_server.url}/cases/intake/{draft.pk}/what/")
    page.get_by_test_id("intake-back").click()
    expect(page.locator("[name=full_name]")).to_have_value("Vũ Thị Hạnh")
