"""A demo supervisor on a phone: finds the overdue and declined handoffs of the last month, opens one,
sees its timeline and who read the case, signs it off; then a break-glass use by a doctor of
another province shows up in the review queue without a reload.

Handoffs are built with the real services by the demo responders, then moved to exact times.
"""

import datetime
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from playwright.sync_api import expect

from agencies.demo import BUILT_IN_STEPS, seed_demo_world
from audit.models import AuditEvent
from cases.models import Case
from cases.selectors import case_get_for_user
from cases.services import case_view
from handoffs.models import Handoff
from handoffs.services import handoff_decline, handoff_view
from supervision.models import HandoffReview
from tests.browser.conftest import demo_case_open, fits_the_screen, sign_in_as
from tests.cases.services_helpers import handoff_send_through_edge

pytestmark = pytest.mark.browser

SUPERVISOR = "hn.police.supervisor"
DOCTOR = "hcm.health.responder"
DAY, HOUR = datetime.timedelta(days=1), datetime.timedelta(hours=1)


def _open_case(world, name: str) -> Case:
    return demo_case_open(world, name=name, birth_year=1996, risk_level="high", consent={
        "receiving_agency": world.agencies[("hn", "health")], "granted_categories": ["medical"],
        "purpose": "Khám và điều trị", "given_by": "survivor"})


def _send(world, case: Case, **times) -> Handoff:
    responder = world.users["hn.police.responder"]
    handoff = handoff_send_through_edge(
        access=case_get_for_user(user=responder, case_id=case.pk, require="manage_sharing"), actor=responder,
        data={"kind": "referral", "to_agency": world.agencies[("hn", "health")], "services": ["medical_care"],
              "urgency": "urgent", "categories": ["medical"], "message": "Đề nghị khám."},
    )
    return handoff


@pytest.fixture
def demo(transactional_db):
    world = seed_demo_world(steps=BUILT_IN_STEPS)
    now = timezone.now()
    health_responder = world.users["hn.health.responder"]
    # Declined 5 days ago, after the 12-hour deadline.
    declined_case = _open_case(world, "Lê Thị Hạnh")
    declined = _send(world, declined_case)
    handoff_view(user=health_responder, handoff_id=declined.pk)
    handoff_decline(user=health_responder, handoff_id=declined.pk, reason="Khoa sản đã kín giường.")
    sent = now - 5 * DAY
    Handoff.objects.filter(pk=declined.pk).update(sent_at=sent, viewed_at=sent + 3 * HOUR,
                                                  responded_at=sent + 14 * HOUR, due_at=sent + 12 * HOUR)
    case_view(user=world.users["hn.police.responder"], case_id=declined_case.pk)
    # Waiting for an answer since yesterday: overdue.
    overdue = _send(world, _open_case(world, "Phạm Thị Thu"))
    Handoff.objects.filter(pk=overdue.pk).update(sent_at=now - 2 * DAY, due_at=now - DAY)
    # Declined too, but two months ago: outside the last month.
    old = _send(world, _open_case(world, "Vũ Thị Lan"))
    handoff_decline(user=health_responder, handoff_id=old.pk, reason="Ngoài phạm vi.")
    Handoff.objects.filter(pk=old.pk).update(sent_at=now - 60 * DAY, responded_at=now - 60 * DAY + HOUR,
                                             due_at=now - 60 * DAY + 12 * HOUR)
    # The doctor holds the break-glass right through a group, as a system administrator would set it.
    group, _ = Group.objects.get_or_create(name="Cấp cứu (break-glass)")
    group.permissions.add(Permission.objects.get(content_type__app_label="permissions", codename="break_glass"))
    world.users[DOCTOR].groups.add(group)
    world.declined, world.overdue, world.old = declined, overdue, old
    return world


_fits_the_screen, _sign_in = fits_the_screen, sign_in_as


def test_a_supervisor_finds_reviews_and_signs_off_then_sees_a_break_glass_use(
    live_server, browser, phone, demo, screenshot_dir, settings
):
    settings.SUPERVISION_QUEUE_REFRESH_SECONDS = 3
    page = phone.new_page()
    _sign_in(page, live_server.url, SUPERVISOR, "/")
    expect(page).to_have_url(f"{live_server.url}/supervision/")
    expect(page.get_by_test_id("home-supervisor")).to_be_visible()

    # The last month, waiting past the deadline.
    page.locator("details.filters > summary").click()
    since = (timezone.localdate() - datetime.timedelta(days=30)).isoformat()
    filters = page.get_by_test_id("register-filters")
    filters.locator("[name=since]").fill(since)
    filters.locator("[name=overdue]").check()
    page.get_by_test_id("apply-filters").click()
    rows = page.get_by_test_id("register-rows")
    expect(rows.locator("li")).to_have_count(1)
    expect(rows.get_by_test_id(f"handoff-{demo.overdue.pk}")).to_contain_text(demo.overdue.case.number)
    expect(rows.get_by_test_id("overdue")).to_be_visible()

    # The last month, declined: the one of two months ago is left out.
    filters.locator("[name=overdue]").uncheck()
    filters.locator("[name=status][value=declined]").check()
    page.get_by_test_id("apply-filters").click()
    expect(rows.locator("li")).to_have_count(1)
    row = rows.get_by_test_id(f"handoff-{demo.declined.pk}")
    expect(row).to_contain_text("Khoa sản đã kín giường.")
    assert _fits_the_screen(page)
    page.screenshot(path=str(screenshot_dir / "supervision-register-phone.png"), full_page=True)

    # Its timeline and who read the case.
    row.click()
    expect(page).to_have_url(f"{live_server.url}/supervision/handoffs/{demo.declined.pk}/")
    timeline = page.get_by_test_id("handoff-timeline")
    for key in ("sent", "viewed", "declined"):
        expect(timeline.locator(f"[data-milestone={key}]")).to_have_count(1)
    # Answered 14 hours after sending, against 12 allowed.
    expect(page.get_by_test_id("deadline-state")).to_have_class(re.compile("deadline-missed"))
    readers = page.get_by_test_id("case-readers")
    expect(readers).to_contain_text("hn.police.responder")
    expect(readers).to_contain_text("hn.health.responder")
    assert _fits_the_screen(page)

    # Signed off with a concern.
    form = page.get_by_test_id("review-form")
    form.locator("[name=verdict][value=concern]").check()
    form.locator("[name=comment]").fill("Từ chối sau hạn 12 giờ; đã nhắc bệnh viện gọi lại trong ngày.")
    page.screenshot(path=str(screenshot_dir / "supervision-handoff-phone.png"), full_page=True)
    page.get_by_test_id("save-review").click()
    expect(page.locator(".messages")).to_be_visible()
    expect(timeline.locator("[data-milestone=review_concern]")).to_have_count(1)
    review = HandoffReview.objects.get(handoff=demo.declined)
    assert (review.verdict, review.reviewer.username) == ("concern", SUPERVISOR)
    assert AuditEvent.objects.filter(target=f"handoff_review:{review.pk}", action="create").exists()

    # The queue waits open; a doctor in Hồ Chí Minh City breaks the glass on the overdue case.
    page.get_by_test_id("nav-queue").click()
    expect(page.get_by_test_id("review-queue")).to_be_visible()
    expect(page.get_by_test_id("queue-break-glass")).to_have_count(0)
    doctor_context = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
    doctor = doctor_context.new_page()
    _sign_in(doctor, live_server.url, DOCTOR, "/break-glass/")
    expect(doctor).to_have_url(f"{live_server.url}/break-glass/")
    doctor_form = doctor.get_by_test_id("break-glass-form")
    doctor_form.locator("[name=case_number]").fill(demo.overdue.case.number)
    doctor_form.locator("[name=reason]").fill("Bệnh nhân nhập viện cấp cứu, bất tỉnh; cần tiền sử điều trị ngay.")
    doctor_form.locator("[name=categories][value=medical]").check()
    doctor.get_by_test_id("open-break-glass").click()
    expect(doctor).to_have_url(f"{live_server.url}/cases/{demo.overdue.case_id}/")
    doctor_context.close()

    queue = page.get_by_test_id("queue-break-glass")
    expect(queue).to_contain_text(demo.overdue.case.number, timeout=60_000)
    expect(queue).to_contain_text("cần tiền sử điều trị ngay")
    assert _fits_the_screen(page)
    page.screenshot(path=str(screenshot_dir / "supervision-queue-phone.png"), full_page=True)
    # And the bell has told them.
    expect(page.get_by_test_id("unread-count")).to_be_visible()
