"""Issue 16, part 4: closing a case asks for confirmation and a reason, recorded encrypted; the
status button alone no longer closes; a child's case shows a child tag at the top."""

import re

import pytest
from django.db import connection
from django.utils import timezone

from cases.models import Case, Survivor
from tests.cases.conftest import case_build, referral_accepted

REASON = "Nạn nhân đã an toàn, kế hoạch hỗ trợ hoàn tất."


def test_closing_asks_for_confirmation_and_a_reason_that_is_recorded_encrypted(world, web):
    case = case_build(world)
    client = web(world.lead_responder)
    detail = client.get(f"/cases/{case.pk}/").content.decode()
    # The button on the case page leads to the confirmation; it does not close.
    assert re.search(rf'<a [^>]*href="/cases/{case.pk}/close/"[^>]*data-testid="status-closed"', detail)
    page = client.get(f"/cases/{case.pk}/close/")
    assert page.status_code == 200 and 'data-testid="confirm-close"' in page.content.decode()

    missing = client.post(f"/cases/{case.pk}/close/", {"close_reason": "  "})
    assert missing.status_code == 400 and "errorlist" in missing.content.decode()
    case.refresh_from_db()
    assert case.status == "open" and case.closed_at is None

    done = client.post(f"/cases/{case.pk}/close/", {"close_reason": REASON})
    assert done.status_code == 302 and done["Location"] == f"/cases/{case.pk}/"
    case.refresh_from_db()
    assert case.status == "closed" and case.close_reason == REASON
    with connection.cursor() as cursor:
        cursor.execute("SELECT close_reason FROM cases_case WHERE id = %s", [case.pk])
        stored = cursor.fetchone()[0]
    assert REASON not in stored and "an toàn" not in stored
    assert REASON in client.get(f"/cases/{case.pk}/").content.decode()


def test_the_status_button_cannot_close_without_a_reason(world, web):
    case = case_build(world)
    response = web(world.lead_responder).post(f"/cases/{case.pk}/status/", {"status": "closed"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "open"


def test_a_closed_case_cannot_be_closed_again(world, web):
    case = case_build(world)
    client = web(world.lead_responder)
    client.post(f"/cases/{case.pk}/close/", {"close_reason": REASON})
    response = client.post(f"/cases/{case.pk}/close/", {"close_reason": "Lần nữa"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.close_reason == REASON


@pytest.mark.parametrize("who", ["receiving_responder", "outsider_responder", "analyst", "lead_admin", "sysadmin",
                                 None])
def test_the_wrong_person_cannot_close(world, web, who, time_limits):
    case = case_build(world)
    from cases.selectors import case_get_for_user
    from tests.cases.services_helpers import consent_record_through_edge
    consent_record_through_edge(access=case_get_for_user(user=world.lead_responder, case_id=case.pk),
                                actor=world.lead_responder, data={
                                    "receiving_agency": world.health.pk, "granted_categories": ["medical"],
                                    "purpose": "Khám", "given_by": "survivor"})
    referral_accepted(world, case, to=world.health, categories=["medical"])
    user = getattr(world, who) if who else None
    for method in ("get", "post"):
        response = getattr(web(user), method)(f"/cases/{case.pk}/close/", {"close_reason": REASON})
        if who is None:
            assert response.status_code == 302 and "/login/" in response["Location"]
        else:
            assert response.status_code in (403, 404)
    case.refresh_from_db()
    assert case.status == "open" and case.close_reason == ""


def test_the_api_needs_a_reason_to_close(world, api):
    case = case_build(world)
    client = api(world.lead_responder)
    response = client.patch(f"/api/cases/{case.pk}/", {"status": "closed"}, format="json")
    assert response.status_code == 400 and "close_reason" in response.json()
    response = client.patch(f"/api/cases/{case.pk}/", {"close_reason": REASON}, format="json")
    assert response.status_code == 400 and "close_reason" in response.json()
    response = client.patch(f"/api/cases/{case.pk}/", {"status": "closed", "close_reason": REASON}, format="json")
    assert response.status_code == 200
    assert Case.objects.get(pk=case.pk).close_reason == REASON


def test_a_childs_case_has_a_child_tag_at_the_top(world, web):
    adult, child = case_build(world), case_build(world)
    Survivor.objects.filter(pk=child.survivor_id).update(birth_year=timezone.localdate().year - 9)
    client = web(world.lead_responder)
    page = client.get(f"/cases/{child.pk}/").content.decode()
    head = page[page.index('class="page-head"'):page.index("</div>", page.index('class="page-head"'))]
    assert 'data-testid="child-tag"' in head
    assert 'data-testid="child-tag"' not in client.get(f"/cases/{adult.pk}/").content.decode()
