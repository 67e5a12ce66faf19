"""Issue 16: Enter never submits a form of several fields. In a text field of each such form a
responder and a supervisor use (the handoff with consent recorded inside it, the consent form, closing
a case, logging an action, a takedown request, a deadline, the password change, break-glass, the
sign-off), Enter neither posts nor navigates, and nothing is created; every POST form of several
fields on those pages starts with the shared disabled button (jinja2_templates/_enter_trap.html).
The axe walk of every page of every role (test_accessibility.py) runs the same form check."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import expect

from agencies.demo import BUILT_IN_STEPS, seed_demo_world
from cases.models import Case, Consent
from handoffs.models import Handoff
from notifications.models import Deadline
from takedowns.models import TakedownRequest
from tests.browser.conftest import ACTION_TIMEOUT_MS, PHONE
from tests.browser.forms import forms_submitting_on_enter
from tests.cases.services_helpers import case_open_through_edge
from tests.conftest import mark_session_second_factor_verified

pytestmark = pytest.mark.browser

TEXT_FIELD = ("input:visible:not([type]), input:visible[type=text], input:visible[type=number], "
              "input:visible[type=tel], input:visible[type=email], input:visible[type=password]")


@pytest.fixture
def demo(transactional_db):
    world = seed_demo_world(steps=BUILT_IN_STEPS)
    police = world.agencies[("hn", "police")]
    case = case_open_through_edge(
        actor=world.users["hn.police.responder"], agency=police, risk_level="high", consent=None,
        survivor={"full_name": "Đỗ Thị Ngọc", "sex": "female", "birth_year": 1999},
        incident={"province": police.province, "answers": {"penetration": False, "sexual_contact": False,
                                                           "physical_assault": True}, "tech_forms": ["harassment"]},
    )
    return world, case


def _context(browser, live_server, username):
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    client.force_login(get_user_model().objects.get(username=username))
    mark_session_second_factor_verified(client)
    context = browser.new_context(viewport=PHONE, screen=PHONE, is_mobile=True, has_touch=True, locale="vi-VN",
                                  timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return context


def _enter_submits_nothing(page, url: str, form_testid: str, *, open_details: str | None = None) -> str:
    """Open the page, type into the form's first text field, press Enter: nothing is posted and the
    page stays. Returns the name of the field used."""
    page.goto(url)
    assert forms_submitting_on_enter(page) == [], url
    form = page.locator(form_testid) if form_testid.startswith("form") else page.get_by_test_id(form_testid)
    expect(form).to_be_visible()
    if open_details:
        form.get_by_test_id(open_details).evaluate("details => { details.open = true; }")
    field = form.locator(TEXT_FIELD).first
    name = field.get_attribute("name")
    posts, loads = [], []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.on("load", lambda _page: loads.append(1))
    field.fill("12" if field.get_attribute("type") == "number" else "Nhấn Enter")
    field.press("Enter")
    page.wait_for_timeout(400)
    assert posts == [] and loads == [], f"Enter in {name} submitted {url}: {posts}"
    assert page.url == url
    expect(field).to_be_focused()
    return name


def test_enter_in_a_text_field_submits_no_form_of_several_fields(live_server, browser, demo):
    world, case = demo
    health = world.agencies[("hn", "health")]
    base = live_server.url
    deadlines = Deadline.objects.filter(case_id=case.pk).count()
    context = _context(browser, live_server, "hn.police.responder")
    page = context.new_page()
    used = {
        # The handoff, in the consent recorded inside it (no consent covers the hospital yet).
        "handoff": _enter_submits_nothing(page, f"{base}/handoffs/new/{case.pk}/?to_agency={health.pk}",
                                          "handoff-form", open_details="consent-inline"),
        "consent": _enter_submits_nothing(page, f"{base}/cases/{case.pk}/consents/new/", "consent-form"),
        "takedown": _enter_submits_nothing(page, f"{base}/cases/{case.pk}/takedowns/new/", "takedown-form"),
        "password": _enter_submits_nothing(page, f"{base}/password/", "form:has(input[type=password])"),
    }
    for path, testid in [(f"/cases/{case.pk}/close/", "close-form"), (f"/cases/{case.pk}/actions/new/", "action-form"),
                         (f"/cases/{case.pk}/deadlines/new/", "deadline-form")]:
        page.goto(base + path)
        assert forms_submitting_on_enter(page) == [], path
        expect(page.get_by_test_id(testid).locator("[data-enter-trap]")).to_have_count(1)
    context.close()
    assert used["handoff"] == "consent-purpose" and used["consent"] == "purpose", used
    assert not Handoff.objects.exists() and not Consent.objects.exists() and not TakedownRequest.objects.exists()
    assert Case.objects.get(pk=case.pk).status == case.status
    assert Deadline.objects.filter(case_id=case.pk).count() == deadlines


def test_the_checker_finds_a_form_that_enter_would_submit(live_server, browser, demo):
    """The check is not vacuous: without the shared disabled button the handoff form is reported."""
    _world, case = demo
    health = _world.agencies[("hn", "health")]
    context = _context(browser, live_server, "hn.police.responder")
    page = context.new_page()
    page.goto(f"{live_server.url}/handoffs/new/{case.pk}/?to_agency={health.pk}")
    page.evaluate("document.querySelectorAll('[data-enter-trap]').forEach(b => b.remove())")
    assert forms_submitting_on_enter(page) == ["handoff-form"]
    context.close()
