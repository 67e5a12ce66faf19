"""Issue 16 part 9: axe-core (axe-playwright-python, the engine shipped in the wheel) finds no serious
or critical violation on any page of any role, at phone size, in Vietnamese, on demo-like data.

The pages come from the URL conf: every pattern outside /admin/ (Django's own) and /api/, its
parameters filled with the demo objects each role works with; a page is checked for a role when a
GET answers it with HTML (a refusal or a missing object shows the error page, checked once per role).
The browser carries the session of a signed-in test client, so the walk costs one page load per page.
Also here: the skip link, and the review queue that updates without moving focus.
"""

import functools
import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import expect

from agencies.demo import BUILT_IN_STEPS, seed_demo_world
from agencies.models import Membership, Role
from cases.breakglass import break_glass_open
from cases.demo import seed_demo_cases_step
from cases.models import Case, Consent
from handoffs.models import Handoff
from notifications.demo import seed_demo_holidays_step
from notifications.models import Deadline, Notification
from permissions.models import BreakGlassUse
from reports.models import MonthlyReport
from reports.periods import last_complete_month, local_today
from reports.services import monthly_reports_build
from takedowns.models import TakedownRequest
from tests.browser.conftest import ACTION_TIMEOUT_MS
from tests.browser.forms import forms_submitting_on_enter
from tests.conftest import mark_session_second_factor_verified
from tests.supervision.conftest import grant_break_glass
from tests.support.urls import concrete, url_patterns

pytestmark = pytest.mark.browser

ROLES = {
    "responder": "hn.police.responder",
    "receiving_responder": "hn.health.responder",
    "supervisor": "hn.police.supervisor",
    "agency_admin": "hn.admin",
    "analyst": "analyst.national",
    "province_analyst": "analyst.hn",
    "sysadmin": "sysadmin",
}
# Django's admin is Django's own interface (its markup is not ours to change); the API answers JSON.
SKIPPED_PREFIXES = ("/admin/", "/api/", "/healthz", "/i18n/", "/logout/")
BLOCKING = ("serious", "critical")
SAME_FOR_EVERY_ROLE = {"/account/second-factor/", "/account/sessions/", "/password/", "/notifications/preferences/"}


def _signed_in_clients() -> dict[str, Client]:
    clients = {}
    for role, name in ROLES.items():
        client = Client(HTTP_ACCEPT_LANGUAGE="vi")
        client.force_login(get_user_model().objects.get(username=name))
        mark_session_second_factor_verified(client)
        clients[role] = client
    return clients


@pytest.fixture
def small_demo(transactional_db):
    """The demo world with 20 cases (their handoffs and deadlines) and signed-in clients per role."""
    world = seed_demo_world(steps=(*BUILT_IN_STEPS, seed_demo_holidays_step,
                                   functools.partial(seed_demo_cases_step, count=20)))
    return world, None, _signed_in_clients()


@pytest.fixture
def demo_pages(transactional_db):
    """A small demo world (20 cases, their handoffs and deadlines, last month's reports), and for
    each role the HTML pages a GET answers."""
    started = time.monotonic()
    world = seed_demo_world(steps=(*BUILT_IN_STEPS, seed_demo_holidays_step,
                                   functools.partial(seed_demo_cases_step, count=20)))
    monthly_reports_build(period=last_complete_month(local_today()), today=local_today())
    police = world.agencies[("hn", "police")]
    case = Case.objects.filter(lead_agency=police).order_by("-pk").first()
    handoff = Handoff.objects.filter(from_agency=police).order_by("-pk").first()
    received = Handoff.objects.filter(to_agency=world.agencies[("hn", "health")]).order_by("-pk").first()
    ids = {
        "agency_id": police.pk,
        "membership_id": Membership.objects.filter(agency=police, role=Role.RESPONDER).first().pk,
        "case_id": case.pk,
        "consent_id": getattr(Consent.objects.filter(case=case).first(), "pk", 1),
        "takedown_id": getattr(TakedownRequest.objects.filter(case=case).first(), "pk", 1),
        "deadline_id": getattr(Deadline.objects.filter(case_id=case.pk).first(), "pk", 1),
        "handoff_id": handoff.pk,
        "notification_id": getattr(Notification.objects.first(), "pk", 1),
        "report_id": MonthlyReport.objects.filter(province__isnull=True).order_by("-pk").first().pk,
        "use_id": getattr(BreakGlassUse.objects.first(), "pk", 1),
    }
    paths = sorted({concrete(pattern, ids) for pattern in url_patterns()})
    paths = [p for p in paths if not p.startswith(SKIPPED_PREFIXES) and not p.endswith((".csv", "/pdf/", "/csv/",
                                                                                         "/xlsx/", "/dhis2/"))]
    if received is not None:
        paths.append(f"/handoffs/{received.pk}/")
    print(f"demo world in {time.monotonic() - started:.1f} s")
    pages, clients = {}, _signed_in_clients()
    for role, client in clients.items():
        found, error_page = [], False
        for path in paths:
            response = client.get(path)
            if not response.get("Content-Type", "").startswith("text/html"):
                continue
            if response.status_code == 200:
                found.append(path)
            elif response.status_code in (403, 404) and not error_page:
                found.append(path)  # one error page per role is enough
                error_page = True
        pages[role] = found
    pages["anonymous"] = ["/login/", "/khong-co-trang-nay/"]
    print(f"pages listed in {time.monotonic() - started:.1f} s")
    return world, pages, clients


def _context_for(browser, live_server, client):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    if client is not None:
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                              "url": live_server.url}])
    return context


def _blocking(axe, page, where: str, problems: dict, minor: set) -> None:
    for violation in axe.run(page).response["violations"]:
        if violation["impact"] not in BLOCKING:
            minor.add(violation["id"])
            continue
        targets = [node["target"] for node in violation["nodes"]][:3]
        problems.setdefault(where, []).append(f"{violation['impact']} {violation['id']}: {violation['help']} {targets}")


def test_axe_finds_no_serious_or_critical_violation_on_any_page_of_any_role(live_server, browser, demo_pages):
    from axe_playwright_python.sync_playwright import Axe

    _world, pages, clients = demo_pages
    axe = Axe()
    problems, minor, checked, started = {}, set(), 0, time.monotonic()
    done_once: set[str] = set()
    for role, paths in pages.items():
        context = _context_for(browser, live_server, clients.get(role))
        page = context.new_page()
        for path in paths:
            response = page.goto(live_server.url + path)
            # An error page, or one of the account pages every role shares, is checked for the first role
            # only (the role's own navigation is checked on its other pages): the walk stays near 2 minutes.
            kind = "error" if response.status >= 400 else path if path in SAME_FOR_EVERY_ROLE else None
            if kind is not None and kind in done_once:
                continue
            done_once.add(kind)
            _blocking(axe, page, f"{role} {path}", problems, minor)
            # Issue 16: no form of several fields that Enter in a text field would submit.
            if submitting := forms_submitting_on_enter(page):
                problems.setdefault(f"{role} {path}", []).append(f"Enter submits {submitting}")
            checked += 1
        if role == "responder":
            # The message box (a list of messages inside a polite live region) after signing out.
            page.get_by_test_id("logout").click()
            expect(page.get_by_test_id("messages")).to_be_visible()
            _blocking(axe, page, "after sign-out /login/", problems, minor)
            checked += 1
        context.close()
    print(f"axe: {checked} pages of {len(pages)} roles in {time.monotonic() - started:.1f} s; "
          f"moderate or minor (not failing): {sorted(minor)}")
    assert checked >= 40, pages
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())


def test_every_page_starts_with_a_skip_link_to_the_main_content(live_server, browser, small_demo):
    _world, _pages, clients = small_demo
    context = _context_for(browser, live_server, clients["responder"])
    page = context.new_page()
    page.goto(live_server.url + "/cases/")
    page.keyboard.press("Tab")
    skip = page.get_by_test_id("skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    expect(skip).to_have_text("Chuyển đến nội dung chính")
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    context.close()


def test_scrolling_tables_can_be_reached_and_scrolled_by_keyboard(live_server, browser, small_demo):
    _world, _pages, clients = small_demo
    context = _context_for(browser, live_server, clients["supervisor"])
    page = context.new_page()
    page.goto(live_server.url + "/supervision/access/")
    regions = page.locator(".table-scroll")
    expect(regions.first).to_be_attached()
    for index in range(regions.count()):
        region = regions.nth(index)
        assert region.get_attribute("tabindex") == "0"
        assert region.get_attribute("role") == "region" and region.get_attribute("aria-label")
    context.close()


def test_the_review_queue_updates_without_reloading_or_moving_focus(live_server, browser, small_demo, settings):
    """The 30-second reload moved focus to the top and lost the reader's place (axe: meta-refresh).
    Now a new break-glass use appears in place, is announced politely, and focus stays put."""
    settings.SUPERVISION_QUEUE_REFRESH_SECONDS = 1
    world, _pages, clients = small_demo
    context = _context_for(browser, live_server, clients["supervisor"])
    page = context.new_page()
    # Every poll is marked passive, so that it does not keep the session alive (idle timeout).
    polls = []
    page.on("request", lambda request: polls.append(request.headers.get("x-hopluc-passive"))
            if request.resource_type == "fetch" else None)
    page.goto(live_server.url + "/supervision/reviews/")
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    expect(page.get_by_test_id("queue-status")).to_have_attribute("aria-live", "polite")
    page.evaluate("window.sameDocument = true")
    refresh = page.get_by_test_id("queue-refresh")
    refresh.focus()
    expect(page.get_by_test_id("queue-break-glass")).to_have_count(0)
    # A doctor of another province breaks the glass on a case of the supervisor's agency.
    doctor = world.users["hcm.health.responder"]
    grant_break_glass(doctor)
    case = Case.objects.filter(lead_agency=world.agencies[("hn", "police")]).order_by("pk").first()
    break_glass_open(user=doctor, case_number=case.number, categories=["medical"],
                     reason="Bệnh nhân nhập viện cấp cứu, bất tỉnh; cần tiền sử điều trị ngay.")
    expect(page.get_by_test_id("queue-break-glass")).to_contain_text(case.number, timeout=20_000)
    expect(page.get_by_test_id("queue-status")).to_have_text("Danh sách chờ xem xét có mục mới.")
    assert page.evaluate("window.sameDocument") is True  # never reloaded
    expect(refresh).to_be_focused()  # focus stayed where the reader left it
    assert polls and set(polls) == {"1"}, polls
    context.close()
