"""A demo responder on a phone, in Vietnamese: opens a case, logs two actions, records consent.

Uses the browser fixtures of tests/browser/conftest.py (system Chromium, 390×844, vi-VN). Fields
are found by name and test id, not by their Vietnamese labels, so that a reworded translation does
not break the flow; the language is checked on the page itself.
"""

import pytest
from playwright.sync_api import expect

from agencies.demo import BUILT_IN_STEPS, seed_demo_world
from audit.models import AuditEvent
from cases.models import Action, Case, Consent
from tests.browser.conftest import consent_record_medical, fits_the_screen, sign_in_as

pytestmark = pytest.mark.browser

USERNAME = "hn.police.responder"


@pytest.fixture
def demo(transactional_db):
    # The built-in steps only: the demo cases would fill "my cases" and slow the test down.
    return seed_demo_world(steps=BUILT_IN_STEPS)


def _sign_in(page, base_url: str, next_path: str) -> None:
    sign_in_as(page, base_url, USERNAME, next_path)


def _log_action(page, action_type: str, text: str, expected_category: str, screenshot=None) -> None:
    page.get_by_test_id(f"action-type-{action_type}").click()
    expect(page.get_by_test_id("action-form")).to_be_visible()
    expect(page.locator("#id_category")).to_have_value(expected_category)
    page.locator("#id_text").fill(text)
    if screenshot:
        assert fits_the_screen(page)
        page.screenshot(path=str(screenshot), full_page=True)
    page.get_by_test_id("save-action").click()
    expect(page.get_by_test_id("timeline")).to_contain_text(text)


def test_a_responder_opens_a_case_logs_two_actions_and_records_consent_on_a_phone(
    live_server, phone_page, demo, screenshot_dir
):
    page = phone_page
    health = demo.agencies[("hn", "health")]
    _sign_in(page, live_server.url, "/cases/new/")

    expect(page).to_have_url(f"{live_server.url}/cases/new/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    form = page.get_by_test_id("open-case-form")
    form.locator("[name=full_name]").fill("Đỗ Thị Ngọc")
    form.locator("[name=sex][value=female]").check()
    form.locator("[name=age]").fill("24")
    form.locator("[name=phone]").fill("0934 567 890")
    for key in ("penetration", "sexual_contact"):
        form.locator(f"[name=answer_{key}][value=no]").check()
    form.locator("[name=answer_physical_assault][value=yes]").check()
    form.locator("[name=tech_forms][value=ncii]").check()
    form.locator("[name=tech_forms][value=harassment]").check()
    form.locator("[name=perpetrator_relationship]").select_option("intimate_partner")
    form.locator("[name=risk_level][value=high]").check()
    assert fits_the_screen(page)
    page.screenshot(path=str(screenshot_dir / "case-open-phone-vi.png"), full_page=True)
    page.get_by_test_id("save-case").click()

    case = Case.objects.get()
    expect(page).to_have_url(f"{live_server.url}/cases/{case.pk}/")
    expect(page.get_by_test_id("case-number")).to_have_text(case.number)
    expect(page.locator(".messages")).to_contain_text(case.number)

    _log_action(page, "statement_taken", "Đã lấy lời khai, có cán bộ nữ.", "police_legal",
                screenshot=screenshot_dir / "action-form-phone-vi.png")
    _log_action(page, "contact", "Gọi điện hỏi thăm, an toàn.", "general")

    consent_record_medical(page, health)

    expect(page).to_have_url(f"{live_server.url}/cases/{case.pk}/")
    expect(page.get_by_test_id("consents")).to_contain_text(health.name)
    assert fits_the_screen(page)
    page.screenshot(path=str(screenshot_dir / "case-detail-phone-vi.png"), full_page=True)

    assert [a.type for a in Action.objects.filter(case=case).order_by("id")] == ["statement_taken", "contact"]
    consent = Consent.objects.get(case=case)
    assert consent.receiving_agency == health and consent.granted_categories == ["medical"]
    assert case.incidents.get().gbv_type == "physical_assault"
    assert AuditEvent.objects.filter(case_id=case.pk, action="view").exists()

    page.goto(f"{live_server.url}/work/")
    expect(page.get_by_test_id("case-cards")).to_contain_text(case.number)
    assert fits_the_screen(page)
    page.screenshot(path=str(screenshot_dir / "my-work-with-cases-phone-vi.png"), full_page=True)


def test_tap_targets_on_the_case_page_are_large_enough(live_server, phone_page, demo):
    page = phone_page
    _sign_in(page, live_server.url, "/cases/new/")
    form = page.get_by_test_id("open-case-form")
    form.locator("[name=answer_penetration][value=yes]").check()
    page.get_by_test_id("save-case").click()
    expect(page.get_by_test_id("action-types")).to_be_visible()
    heights = page.eval_on_selector_all(
        ".type-button, button.primary, button.secondary, .button",
        "els => els.map(e => e.getBoundingClientRect().height)",
    )
    assert heights and min(heights) >= 44, heights
