"""Issue 17 at phone size (390×844, Vietnamese): a responder records a risk assessment that comes out
high, in one scrolling form saved part-way and finished later. Enter submits nothing; the case page
then shows the level, its date and who assessed, and the assessment's answers.

Uses the browser fixtures of tests/browser/conftest.py (system Chromium) and the demo world's people.
"""

import pytest
from playwright.sync_api import expect

from risk.instrument import instrument_current
from risk.models import RiskAssessment
from tests.browser.conftest import PHONE, demo_case_open, demo_world_with_time_limits, sign_in_as

pytestmark = pytest.mark.browser

RESPONDER = "hn.police.responder"


@pytest.fixture
def demo(transactional_db):
    world = demo_world_with_time_limits()
    world.case = demo_case_open(world, name="Phạm Thị Thu", birth_year=1992, risk_level="medium",
                                tech_forms=["cyberstalking"])
    return world


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a {PHONE['width']}px phone"


def test_a_phone_assessment_saved_part_way_then_finished_comes_out_high(live_server, phone_page, demo):
    page, case = phone_page, demo.case
    codes = instrument_current().variants["adult"].item_codes
    sign_in_as(page, live_server.url, RESPONDER, f"/cases/{case.pk}/")
    panel = page.get_by_test_id("risk-panel")
    expect(panel).to_contain_text("Chưa đánh giá")
    panel.get_by_test_id("assess-risk").click()
    expect(page.locator("h1")).to_have_text("Đánh giá nguy cơ")
    # The questions are in Vietnamese, from the instrument file.
    expect(page.get_by_test_id("risk-form")).to_contain_text("bóp cổ")
    _fits(page)

    # The first ten answers. Enter in the reason (a text area) submits nothing.
    for code in codes[:10]:
        page.locator(f'input[name="item_{code}"][value="yes"]').check()
    page.locator("#id_judgement_reason").press("Enter")
    expect(page.locator("#id_judgement_reason")).to_have_value("\n")  # a new line, not a submission
    expect(page).to_have_url(f"{live_server.url}/cases/{case.pk}/risk/assess/")
    page.locator("#id_judgement_reason").fill("")
    # Enter on a radio button: Chromium presses the form's first enabled button for a control that is
    # not a text field, whatever the disabled trap before it; that button is "save and finish later"
    # on purpose, so Enter never finishes an assessment.
    page.locator(f'input[name="item_{codes[9]}"][value="yes"]').press("Enter")
    expect(page.get_by_test_id("risk-draft")).to_be_visible()
    assert list(RiskAssessment.objects.values_list("status", flat=True)) == ["draft"]
    page.get_by_test_id("save-draft").click()
    expect(page.get_by_test_id("risk-draft")).to_be_visible()
    draft = RiskAssessment.objects.get()
    assert draft.status == "draft"
    # Saved part-way: the answers come back when the form is opened again.
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.get_by_test_id("assess-risk")).to_have_text("Tiếp tục đánh giá")
    page.get_by_test_id("assess-risk").click()
    expect(page.locator(f'input[name="item_{codes[0]}"][value="yes"]')).to_be_checked()

    # Four more "yes" (fourteen: visible high risk), the rest "no", one "not known".
    for code in codes[10:14]:
        page.locator(f'input[name="item_{code}"][value="yes"]').check()
    for code in codes[14:-1]:
        page.locator(f'input[name="item_{code}"][value="no"]').check()
    page.locator(f'input[name="item_{codes[-1]}"][value="not_known"]').check()
    page.get_by_test_id("complete-assessment").click()

    expect(page).to_have_url(f"{live_server.url}/cases/{case.pk}/")
    expect(page.get_by_test_id("risk-latest-level")).to_have_text("Cao")
    expect(page.get_by_test_id("risk-latest")).to_contain_text("Công an")
    _fits(page)
    done = RiskAssessment.objects.get()
    assert (done.pk, done.status, done.score, done.not_known_count, done.level) == (draft.pk, "completed", 14, 1,
                                                                                    "high")
    # The answers, for a reader of psychosocial data.
    page.get_by_test_id("risk-panel").locator("summary").click()
    page.get_by_test_id("risk-history").locator("a").first.click()
    expect(page.get_by_test_id("assessment-level")).to_have_text("Cao")
    expect(page.get_by_test_id("assessment-answers")).to_contain_text("Không rõ")
    _fits(page)
