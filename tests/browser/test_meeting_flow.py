"""Issue 17 at desktop size (1366×900, Vietnamese): the chair runs a case meeting on its screen:
attendance, a contribution, the meeting held, the decisions, a plan item with its owner and due date,
and the signature, after which the minutes cannot be edited and the case page shows the plan.

Uses the browser fixtures of tests/browser/conftest.py (system Chromium) and the demo world's people.
"""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conferences.models import ActionPlanItem, MeetingMinutes
from conferences.selectors import meeting_get_for_user
from conferences.services import meeting_case_add, meeting_schedule
from notifications.models import Deadline
from tests.browser.conftest import demo_case_open, demo_world_with_time_limits, sign_in_as

pytestmark = pytest.mark.browser

CHAIR = "hn.police.supervisor"
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture
def meeting(transactional_db):
    world = demo_world_with_time_limits()
    case = demo_case_open(world, name="Lê Thị Hoa", birth_year=1990, risk_level="high")
    chair = world.users[CHAIR]
    meeting = meeting_schedule(actor=chair, scheduled_for=timezone.now() - datetime.timedelta(hours=1),
                               mode="in_person", place="Phòng họp số 2", chair=chair)
    meeting_case_add(access=meeting_get_for_user(user=chair, meeting_id=meeting.pk), actor=chair, case_id=case.pk)
    return meeting, case


def test_the_chair_records_a_meeting_and_signs_it(live_server, browser, meeting):
    meeting, case = meeting
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    page = context.new_page()
    sign_in_as(page, live_server.url, CHAIR, f"/meetings/{meeting.pk}/")
    expect(page.locator("h1")).to_contain_text("Họp liên ngành")
    agenda = page.get_by_test_id(f"agenda-case-{case.pk}")
    expect(agenda).to_contain_text(case.number)

    page.locator('[data-testid^="attended-"]').first.check()
    page.get_by_test_id("attendance-submit").click()
    agenda.get_by_test_id("contribution-category").select_option("general")
    agenda.get_by_test_id("contribution-text").fill("Nạn nhân đang ở nhà mẹ đẻ.")
    agenda.get_by_test_id("contribution-submit").click()
    expect(page.get_by_test_id("contribution")).to_contain_text("Nạn nhân đang ở nhà mẹ đẻ.")

    page.get_by_test_id("hold-submit").click()
    expect(page.get_by_test_id("meeting-status")).to_have_text("Đã họp")
    agenda = page.get_by_test_id(f"agenda-case-{case.pk}")
    agenda.get_by_test_id("decision-text").fill("Lập kế hoạch an toàn trong tuần.")
    agenda.get_by_test_id("decision-submit").click()
    expect(page.get_by_test_id("decision")).to_have_text("Lập kế hoạch an toàn trong tuần.")

    due = (timezone.localtime() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    agenda = page.get_by_test_id(f"agenda-case-{case.pk}")
    agenda.get_by_test_id("plan-action").fill("Gọi điện kiểm tra an toàn.")
    agenda.get_by_test_id("plan-due").fill(due)
    agenda.get_by_test_id("plan-submit").click()
    expect(page.get_by_test_id("plan-item")).to_contain_text("Gọi điện kiểm tra an toàn.")
    item = ActionPlanItem.objects.get()
    assert Deadline.objects.get(subject=f"plan_item:{item.pk}").kind == "action_plan"

    page.get_by_test_id("sign-submit").click()
    expect(page.get_by_test_id("minutes-status")).to_contain_text("Đã ký")
    expect(page.get_by_test_id("decision-form")).to_have_count(0)
    assert MeetingMinutes.objects.get().status == "signed"

    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.get_by_test_id("plan-panel")).to_contain_text("Gọi điện kiểm tra an toàn.")
    context.close()
