"""Part 7 of issue 11: a break-glass right is refused one second after its `valid_until`, through
every path that reads a case: the API (detail, list, timeline, actions, consents, takedowns), the
pages (list, detail, forms) and Django's own `has_perm(perm, case)`, which guardian's object backend
answered "yes" to after the right had ended (the backend is gone: HopLuc's access helper decides)."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from cases.breakglass import break_glass_open
from cases.models import CaseAccessRow
from tests.supervision.conftest import REASON, REGISTER_ONCE, grant_break_glass

pytestmark = REGISTER_ONCE

API_READS = [
    "/api/cases/{id}/",
    "/api/cases/{id}/timeline/",
    "/api/cases/{id}/actions/",
    "/api/cases/{id}/consents/",
    "/api/cases/{id}/takedowns/",
]
PAGES = [
    "/cases/{id}/",
    "/cases/{id}/actions/new/",
    "/cases/{id}/consents/new/",
    "/cases/{id}/takedowns/new/",
]
API_WRITES = [
    ("/api/cases/{id}/actions/", {"type": "note", "text": "Ghi chú."}),
    ("/api/cases/{id}/consents/", {"receiving_agency": "{agency}", "granted_categories": ["medical"],
                                   "purpose": "Khám và điều trị", "given_by": "survivor"}),
    ("/api/cases/{id}/takedowns/", {"platform": "facebook", "url": "https://example.invalid/x"}),
]


@pytest.fixture
def opened(world, register):
    doctor = grant_break_glass(world.outsider_responder)
    case = register.h1.case
    use = break_glass_open(user=doctor, case_number=case.number, reason=REASON, categories=["medical"])
    return doctor, case, use


def _expire_one_second_ago(doctor) -> None:
    # The clock is not moved: the session would expire with it. The right's end is moved instead.
    past = timezone.now() - datetime.timedelta(seconds=1)
    CaseAccessRow.objects.filter(user=doctor).update(valid_until=past)


def test_every_read_works_during_the_window_and_none_one_second_after(opened, web, api):
    doctor, case, _use = opened
    page_client, api_client = web(doctor), api(doctor)
    for path in API_READS:
        assert api_client.get(path.format(id=case.pk)).status_code == 200, path
    assert case.pk in [row["id"] for row in api_client.get("/api/cases/").json()["results"]]
    assert page_client.get(f"/cases/{case.pk}/").status_code == 200
    assert case.number in page_client.get("/cases/").content.decode()

    _expire_one_second_ago(doctor)

    for path in API_READS:
        assert api_client.get(path.format(id=case.pk)).status_code == 404, path
    assert api_client.get("/api/cases/").json()["results"] == []
    for path in PAGES:
        assert page_client.get(path.format(id=case.pk)).status_code == 404, path
    assert case.number not in page_client.get("/cases/").content.decode()
    for path, body in API_WRITES:
        body = {key: (case.lead_agency_id if value == "{agency}" else value) for key, value in body.items()}
        assert api_client.post(path.format(id=case.pk), body, format="json").status_code == 404, path
    assert page_client.post(f"/cases/{case.pk}/status/", {"status": "closed"}).status_code == 404


def test_has_perm_on_the_case_is_no_way_in(opened):
    doctor, case, _use = opened
    _expire_one_second_ago(doctor)
    doctor = type(doctor).objects.get(pk=doctor.pk)
    # guardian's backend ignored valid_until and answered True here.
    assert not doctor.has_perm("cases.view_case", case)
    assert not doctor.has_perm("cases.view_medical", case)
    assert "guardian.backends.ObjectPermissionBackend" not in settings.AUTHENTICATION_BACKENDS
