"""Issue 11 part 6, in a real browser: under the strict Content-Security-Policy the pages with
script (the action form, Swagger UI, Redoc) still work, and Chromium reports no violation but one:
Redoc's sidebar always draws the Redocly logo from its CDN (no option turns it off), and the policy
refuses that request, which is what it is for: nothing of the page loads from another site."""

import pytest
from playwright.sync_api import expect

from tests.cases.services_helpers import open_case
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_pages_with_script_work_and_nothing_is_refused(transactional_db, world, live_server, phone_page):
    case = open_case(world)
    page = phone_page
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill("lead_responder")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("button[type=submit].primary").click()
    expect(page).to_have_url(f"{live_server.url}/work/")

    # The action form's script (a static file now) still preselects the category of the chosen type.
    page.goto(f"{live_server.url}/cases/{case.pk}/actions/new/")
    page.locator('input[name="type"][value="medical_care"]').check()
    expect(page.locator("#id_category")).to_have_value("medical")

    page.goto(f"{live_server.url}/api/docs/")
    # The bundles are large: a loaded CI machine needs longer than the default wait to run them.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("HopLuc API", timeout=30_000)
    assert violations == []

    page.goto(f"{live_server.url}/api/redoc/")
    expect(page.locator("h1").first).to_contain_text("HopLuc API", timeout=30_000)
    # Wait for the sidebar's footer, which asks for the CDN logo, so the check does not depend on timing.
    expect(page.get_by_text("API docs by Redocly")).to_be_attached(timeout=30_000)
    page.wait_for_timeout(500)
    refused_elsewhere = [v for v in violations if "https://cdn.redoc.ly/redoc/logo-mini.svg" not in v]
    assert refused_elsewhere == []
    assert all("img-src" in v for v in violations)
