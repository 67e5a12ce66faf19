"""Issue 16, part 4, at phone size (390×844, Vietnamese): every role's pages have the navigation bar
and fit the screen; collapsible sections show an arrow; checkboxes and radio buttons are touch-sized
boxes beside their labels (break-glass form, register filter, sign-off form, staff page); role menus
stay readable; charts keep readable text; the staff table stacks its rows; the triage facts and the
consent part of the send form show on a phone.

Uses the browser fixtures of tests/browser/conftest.py (system Chromium). The pages are built with
the real services from the demo world's people.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import expect

from cases.selectors import case_get_for_user
from handoffs.services import handoff_decline
from tests.browser.conftest import (
    ACTION_TIMEOUT_MS,
    CHROMIUM,
    PHONE,
    demo_case_open,
    demo_world_with_time_limits,
    sign_in_as,
)
from tests.cases.services_helpers import handoff_send_through_edge

pytestmark = pytest.mark.browser

DOCTOR = "hcm.health.responder"


@pytest.fixture
def demo(transactional_db):
    world = demo_world_with_time_limits()
    health = world.agencies[("hn", "health")]
    responder = world.users["hn.police.responder"]
    case = demo_case_open(world, name="Trần Thị Mai", birth_year=2015, risk_level="severe", tech_forms=["sextortion"],
                          consent={"receiving_agency": health, "granted_categories": ["medical"],
                                   "purpose": "Khám và điều trị", "given_by": "survivor_and_guardian",
                                   "guardian_relationship": "Mẹ"})
    lead = case_get_for_user(user=responder, case_id=case.pk, require="manage_sharing")
    waiting = handoff_send_through_edge(access=lead, actor=responder, data={
        "kind": "referral", "to_agency": health, "services": ["medical_care"], "urgency": "emergency",
        "categories": ["medical"], "message": "Cần khám ngay trong hôm nay."})
    declined = handoff_send_through_edge(access=lead, actor=responder, data={
        "kind": "referral", "to_agency": world.agencies[("hn", "social_work")], "services": ["counselling"],
        "urgency": "standard", "categories": [], "message": "Tư vấn tâm lý.", "emergency_override": True,
        "override_reason": "Nguy cơ tự hại."})
    handoff_decline(user=world.users["hn.social_work.responder"], handoff_id=declined.pk, reason="Hết chỗ.")
    group, _ = Group.objects.get_or_create(name="Cấp cứu (break-glass)")
    group.permissions.add(Permission.objects.get(content_type__app_label="permissions", codename="break_glass"))
    world.users[DOCTOR].groups.add(group)
    world.case, world.waiting, world.declined = case, waiting, declined
    return world


def _pages(demo) -> dict[str, list[str]]:
    case, waiting, declined = demo.case.pk, demo.waiting.pk, demo.declined.pk
    school = demo.agencies[("hn", "education")].pk
    return {
        "hn.police.responder": [
            "/work/", "/cases/", f"/cases/{case}/", "/handoffs/outgoing/", f"/handoffs/new/{case}/",
            f"/handoffs/new/{case}/?to_agency={school}", f"/cases/{case}/close/", "/notifications/",
            "/notifications/deadlines/", "/account/sessions/", "/meetings/",
        ],
        "hn.health.responder": ["/work/", "/handoffs/incoming/", f"/handoffs/{waiting}/"],
        "hn.police.supervisor": [
            "/supervision/", "/supervision/reviews/", "/supervision/access/", "/supervision/unusual-access/",
            "/supervision/dashboard/", f"/supervision/handoffs/{declined}/", "/notifications/", "/meetings/",
        ],
        "hn.admin": ["/staff/", f"/agencies/{demo.agencies[('hn', 'social_work')].pk}/staff/"],
        "analyst.national": ["/reports/"],
        "hn.social_work.hotline": ["/work/", "/cases/"],
        DOCTOR: ["/work/", "/break-glass/"],
    }


def _context(browser):
    context = browser.new_context(viewport=PHONE, screen=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    return context


def _sign_in(page, base_url: str, username: str) -> None:
    sign_in_as(page, base_url, username)


# Measured in the page: what a person sees, not what the HTML says.
LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  if (document.documentElement.scrollWidth > window.innerWidth) {
    const wide = [...document.querySelectorAll('body *')].filter(
      el => el.getBoundingClientRect().right > window.innerWidth + 1 && !el.closest('.table-scroll, .chart-scroll'));
    problems.push('wider than the screen: ' + document.documentElement.scrollWidth + ' px; '
      + wide.slice(0, 3).map(el => el.tagName + '.' + el.className).join(', '));
  }
  const nav = document.querySelector('[data-testid=main-nav]');
  if (!nav || nav.querySelectorAll('a').length === 0 || !visible(nav)) problems.push('no navigation bar');
  for (const box of document.querySelectorAll('input[type=checkbox], input[type=radio]')) {
    if (!visible(box)) continue;
    const r = box.getBoundingClientRect();
    if (r.width > 32 || r.height > 32 || r.width < 16 || r.height < 16)
      problems.push(`${box.type} ${box.name} is ${Math.round(r.width)}×${Math.round(r.height)} px`);
    const label = box.closest('label') || (box.id && document.querySelector(`label[for="${box.id}"]`));
    if (label && label.textContent.trim() && label.getBoundingClientRect().width < 80)
      problems.push(`the label of ${box.name} is squeezed to ${Math.round(label.getBoundingClientRect().width)} px`);
  }
  for (const summary of document.querySelectorAll('details > summary')) {
    if (!visible(summary)) continue;
    const arrow = getComputedStyle(summary, '::before');
    if (arrow.content === 'none' || parseFloat(arrow.borderLeftWidth) < 5) problems.push('a summary has no arrow');
  }
  for (const select of document.querySelectorAll('select')) {
    if (visible(select) && select.getBoundingClientRect().width < 120)
      problems.push(`select ${select.name} is ${Math.round(select.getBoundingClientRect().width)} px wide`);
  }
  for (const svg of document.querySelectorAll('svg[viewBox]')) {
    if (!visible(svg) || !svg.querySelector('text')) continue;
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    for (const text of svg.querySelectorAll('text')) {
      const size = parseFloat(text.getAttribute('font-size') || getComputedStyle(text).fontSize) * scale;
      if (size < 11) { problems.push(`chart text of ${size.toFixed(1)} px`); break; }
    }
  }
  return problems;
}"""


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is missing")
def test_every_roles_pages_fit_a_phone_with_the_navigation_bar(live_server, browser, demo, screenshot_dir):
    found = {}
    for username, paths in _pages(demo).items():
        context = _context(browser)
        page = context.new_page()
        _sign_in(page, live_server.url, username)
        for path in paths:
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, f"{username} {path}: {response.status}"
            problems = page.evaluate(LAYOUT_PROBLEMS)
            if problems:
                found[f"{username} {path}"] = problems
                name = f"layout-{username}-{path.strip('/').replace('/', '-') or 'home'}.png".replace("?", "_")
                page.screenshot(path=str(screenshot_dir / name), full_page=True)
        context.close()
    assert not found, "\n".join(f"{where}: {'; '.join(problems)}" for where, problems in found.items())


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is missing")
def test_a_waiting_handoff_is_triaged_and_the_case_closed_with_a_reason_on_a_phone(live_server, browser, demo):
    context = _context(browser)
    page = context.new_page()
    _sign_in(page, live_server.url, "hn.health.responder")
    # The waiting referral is the first thing on the home, with its urgency and due time.
    first = page.get_by_test_id("home-waiting").locator("[data-testid^=handoff-link-]").first
    expect(first).to_have_attribute("data-testid", f"handoff-link-{demo.waiting.pk}")
    box = first.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"], "the waiting referral is below the fold"
    first.click()
    triage = page.get_by_test_id("triage")
    for testid in ("triage-urgency", "triage-due", "triage-risk", "triage-incident", "triage-child"):
        expect(triage.get_by_test_id(testid)).to_be_visible()
    expect(triage.get_by_test_id("triage-child").locator(".tag.child")).to_be_visible()
    expect(triage.get_by_test_id("handoff-message")).to_contain_text("Cần khám ngay")
    accept = page.get_by_test_id("accept")
    expect(accept).to_be_visible()
    context.close()

    context = _context(browser)
    page = context.new_page()
    _sign_in(page, live_server.url, "hn.police.responder")
    page.goto(f"{live_server.url}/cases/{demo.case.pk}/")
    expect(page.get_by_test_id("child-tag")).to_be_in_viewport()
    page.get_by_test_id("status-closed").click()
    page.get_by_test_id("confirm-close").click()
    expect(page.get_by_test_id("close-form").locator(".errorlist")).to_be_visible()
    page.locator("#id_close_reason").fill("Nạn nhân đã được bảo vệ an toàn.")
    page.get_by_test_id("confirm-close").click()
    expect(page.get_by_test_id("close-reason")).to_contain_text("bảo vệ an toàn")
    context.close()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is missing")
def test_consent_is_recorded_inside_the_send_form_on_a_phone(live_server, browser, demo):
    school = demo.agencies[("hn", "education")]
    context = _context(browser)
    page = context.new_page()
    _sign_in(page, live_server.url, "hn.police.responder")
    page.goto(f"{live_server.url}/handoffs/new/{demo.case.pk}/")
    page.locator("[name=to_agency]").select_option(str(school.pk))
    page.get_by_test_id("choose-agency").click()
    form = page.get_by_test_id("handoff-form")
    form.locator("[name=services][value=school_safety]").check()
    form.locator("[name=urgency][value=urgent]").check()
    form.locator("[name=message]").fill("Nhà trường hỗ trợ an toàn cho em.")
    inline = page.get_by_test_id("consent-inline")
    expect(inline).to_have_attribute("open", "")
    inline.locator(f"[name=consent-recipients][value='sector:{school.sector}']").check()
    inline.locator("[name=consent-granted_categories][value=education]").check()
    inline.locator("[name=consent-purpose]").fill("An toàn ở trường")
    inline.locator("[name=consent-given_by][value=survivor_and_guardian]").check()
    inline.locator("[name=consent-guardian_relationship]").fill("Mẹ")
    page.get_by_test_id("record-consent-inline").click()
    form = page.get_by_test_id("handoff-form")
    expect(form.locator("[name=message]")).to_have_value("Nhà trường hỗ trợ an toàn cho em.")
    expect(form.locator("[name=urgency][value=urgent]")).to_be_checked()
    expect(form.locator("[name=categories][value=education]")).to_be_checked()
    page.get_by_test_id("send-handoff").click()
    expect(page.get_by_test_id("handoff-status")).to_be_visible()
    context.close()
