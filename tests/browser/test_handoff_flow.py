"""Two demo responders on phones, in Vietnamese: the police responder picks a case, records the
survivor's consent for the hospital and refers the case to it; the hospital's responder signs in,
follows the notification to the handoff and accepts it, and then reads the case's medical data.

Uses the browser fixtures of tests/browser/conftest.py (system Chromium, 390×844, vi-VN). Fields are
found by name and test id, not by their Vietnamese labels; the language is checked on the page.
"""

import pytest
from playwright.sync_api import expect

from cases.selectors import case_get_for_user
from cases.services import action_log
from handoffs.models import Handoff
from tests.browser.conftest import (
    ACTION_TIMEOUT_MS,
    PHONE,
    consent_record_medical,
    demo_world_with_time_limits,
    fits_the_screen,
    sign_in_as,
)
from tests.cases.services_helpers import case_open_through_edge

pytestmark = pytest.mark.browser

SENDER, RECEIVER = "hn.police.responder", "hn.health.responder"
MEDICAL_NOTE = "Vết bầm ở cánh tay trái, đã chụp X-quang."


@pytest.fixture
def demo(transactional_db):
    # The built-in steps only: the 120 demo cases would slow the test down.
    world = demo_world_with_time_limits()
    return world


@pytest.fixture
def case(demo):
    """A case the police responder opened earlier, with a medical note the hospital may read once it
    accepts (synthetic data)."""
    police, responder = demo.agencies[("hn", "police")], demo.users[SENDER]
    case = case_open_through_edge(
        actor=responder, agency=police, risk_level="high", consent=None,
        survivor={"full_name": "Đỗ Thị Ngọc", "sex": "female", "birth_year": 1999, "phone": "0934 567 890"},
        incident={"province": police.province, "answers": {"penetration": False, "sexual_contact": False,
                                                           "physical_assault": True},
                  "tech_forms": ["harassment"], "perpetrator_relationship": "intimate_partner"},
    )
    action_log(access=case_get_for_user(user=responder, case_id=case.pk), actor=responder,
               data={"type": "medical_care", "text": MEDICAL_NOTE})
    return case


_fits_the_screen, _sign_in = fits_the_screen, sign_in_as


def test_a_police_responder_refers_a_case_that_a_hospital_responder_accepts_on_phones(
    live_server, browser, phone, demo, case, screenshot_dir
):
    health = demo.agencies[("hn", "health")]

    # The police responder picks the case from their list.
    page = phone.new_page()
    _sign_in(page, live_server.url, SENDER, "/cases/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.get_by_test_id("case-link").filter(has_text=case.number).click()
    expect(page.get_by_test_id("case-number")).to_have_text(case.number)

    # Consent first: the survivor agrees to medical data for the hospital, not to her identity.
    consent_record_medical(page, health)
    expect(page.get_by_test_id("consents")).to_contain_text(health.name)

    # The handoff: the agency first, then what is asked; consent preselects the medical data.
    page.get_by_test_id("send-handoff-link").click()
    page.get_by_test_id("agency-form").locator("[name=to_agency]").select_option(str(health.pk))
    page.get_by_test_id("choose-agency").click()
    form = page.get_by_test_id("handoff-form")
    expect(page.get_by_test_id("to-agency")).to_contain_text(health.name)
    expect(form.locator("[name=categories][value=medical]")).to_be_checked()
    expect(form.locator("[name=categories]")).to_have_count(1)
    expect(form.locator("[name=override_categories][value=identity]")).to_have_count(0)
    form.locator("[name=kind][value=referral]").check()
    form.locator("[name=services][value=medical_care]").check()
    form.locator("[name=services][value=forensic_exam]").check()
    form.locator("[name=urgency][value=urgent]").check()
    form.locator("[name=message]").fill("Đề nghị khám và giám định thương tích trong ngày.")
    assert _fits_the_screen(page)
    page.screenshot(path=str(screenshot_dir / "handoff-send-phone-vi.png"), full_page=True)
    page.get_by_test_id("send-handoff").click()

    handoff = Handoff.objects.get()
    expect(page).to_have_url(f"{live_server.url}/handoffs/{handoff.pk}/")
    expect(page.get_by_test_id("handoff-status")).to_have_text(handoff.get_status_display())
    expect(page.get_by_test_id("withdraw-form")).to_be_visible()
    expect(page.get_by_test_id("accept")).to_have_count(0)
    assert (handoff.to_agency, handoff.urgency, handoff.categories) == (health, "urgent", ["medical"])

    # The hospital's responder, on another phone, follows the notification to the handoff.
    other = browser.new_context(viewport=PHONE, screen=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2,
                                locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    other.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        receiver = other.new_page()
        _sign_in(receiver, live_server.url, RECEIVER, "/handoffs/incoming/")
        expect(receiver.get_by_test_id(f"handoff-link-{handoff.pk}")).to_contain_text(case.number)
        assert _fits_the_screen(receiver)
        receiver.screenshot(path=str(screenshot_dir / "handoff-list-incoming-phone-vi.png"), full_page=True)
        expect(receiver.get_by_test_id("unread-count")).to_contain_text("1")
        receiver.get_by_test_id("notifications-link").click()
        receiver.locator("li.unread").filter(has_text=case.number).locator("button[name=open]").click()
        expect(receiver).to_have_url(f"{live_server.url}/handoffs/{handoff.pk}/")
        expect(receiver.locator("html")).to_have_attribute("lang", "vi")
        expect(receiver.get_by_test_id("handoff-message")).to_contain_text("giám định thương tích")
        expect(receiver.get_by_test_id("open-case")).to_have_count(0)
        assert _fits_the_screen(receiver)
        receiver.screenshot(path=str(screenshot_dir / "handoff-incoming-phone-vi.png"), full_page=True)

        receiver.get_by_test_id("accept").click()
        expect(receiver.locator(".messages")).to_be_visible()
        handoff.refresh_from_db()
        assert handoff.status == "accepted" and handoff.viewed_by.username == RECEIVER
        expect(receiver.get_by_test_id("handoff-status")).to_have_text(handoff.get_status_display())
        expect(receiver.get_by_test_id("timeline").locator("li")).to_have_count(3)
        assert _fits_the_screen(receiver)
        receiver.screenshot(path=str(screenshot_dir / "handoff-accepted-phone-vi.png"), full_page=True)

        # The hospital now reads the medical note, and not the survivor's name.
        receiver.get_by_test_id("open-case").click()
        expect(receiver.get_by_test_id("case-number")).to_have_text(case.number)
        expect(receiver.get_by_test_id("timeline")).to_contain_text(MEDICAL_NOTE)
        expect(receiver.get_by_test_id("survivor")).not_to_contain_text("Đỗ Thị Ngọc")
        assert _fits_the_screen(receiver)
        receiver.screenshot(path=str(screenshot_dir / "handoff-case-as-receiver-phone-vi.png"), full_page=True)
    finally:
        other.close()

    access = case_get_for_user(user=demo.users[RECEIVER], case_id=case.pk)
    assert access.categories == {"medical"}
