"""Content takedown requests: the services (record, outcome), their API and pages, and who is
refused. The shared case is led by the police and shared with the health agency for medical data
only, so the receiving agency does not read a request logged in the police/legal category."""

import datetime
import json

import pytest
from django.utils import timezone, translation

from audit.models import AuditEvent
from cases.models import Action, CaseEvent
from cases.selectors import case_get_for_user
from takedowns.apis import TakedownOutcomeApi, TakedownRecordApi
from takedowns.models import TakedownRequest
from takedowns.selectors import takedown_list_for_case
from takedowns.services import content_reference_hash, takedown_outcome_record, takedown_request_record
from tests.cases.services_helpers import through_edge

URL = "https://www.facebook.com/photo/?fbid=1234567890&set=a.99"


def record(world, case, user=None, **overrides):
    user = user or world.lead_responder
    data = {"platform": "facebook", "content_reference": URL, "text": "Gửi yêu cầu gỡ qua kênh cơ quan chức năng"}
    data.update(overrides)
    return takedown_request_record(access=case_get_for_user(user=user, case_id=case.pk), actor=user,
                                   data=through_edge(TakedownRecordApi.InputSerializer, data))


def outcome(world, case, takedown, user=None, **data):
    user = user or world.lead_responder
    return takedown_outcome_record(access=case_get_for_user(user=user, case_id=case.pk), actor=user,
                                   takedown_id=takedown.pk, data=through_edge(TakedownOutcomeApi.InputSerializer, data))


# --- Services ------------------------------------------------------------------------------------


def test_a_request_is_an_action_with_the_request_beside_it_and_no_address_is_stored(world, shared_case):
    case = shared_case.case
    takedown = record(world, case)
    action = takedown.action
    assert (action.type, action.category, action.case_id, action.agency_id) == (
        "takedown_requested", "police_legal", case.pk, world.police.pk)
    assert (takedown.platform, takedown.outcome, takedown.resolved_at) == ("facebook", "pending", None)
    assert takedown.requested_at == action.occurred_at
    assert takedown.content_reference_hash == content_reference_hash(URL)
    assert len(takedown.content_reference_hash) == 64
    # The address is in no column of the request, and in no audit event or timeline line.
    row = TakedownRequest.objects.filter(pk=takedown.pk).values().get()
    assert not any("facebook.com" in str(value) for value in row.values())
    for event in AuditEvent.objects.all():
        assert "facebook.com" not in json.dumps(event.details) + event.target + event.reason
    assert not CaseEvent.objects.filter(data__icontains="facebook.com").exists()
    audited = AuditEvent.objects.filter(target=f"takedown:{takedown.pk}").get()
    assert (audited.action, audited.case_id, audited.details["platform"]) == ("create", case.pk, "facebook")
    assert CaseEvent.objects.filter(case=case, type="action_logged", action=action).exists()


def test_the_same_content_gets_the_same_fingerprint_and_other_content_another(settings):
    same = ["https://www.facebook.com/photo/?fbid=1", "  HTTPS://WWW.Facebook.com/photo/?fbid=1#comments  "]
    assert content_reference_hash(same[0]) == content_reference_hash(same[1])
    assert content_reference_hash("https://www.facebook.com/photo/?fbid=2") != content_reference_hash(same[0])
    # The path and query are part of the address: their case is kept.
    assert content_reference_hash("https://x.com/A/status/1") != content_reference_hash("https://x.com/a/status/1")
    # Keyed: another installation's key gives another fingerprint, so a guess cannot be confirmed.
    before = content_reference_hash(same[0])
    settings.SEARCH_HASH_KEY = "another-key"
    assert content_reference_hash(same[0]) != before


def test_bad_input_gets_every_message_and_writes_nothing(world, shared_case):
    case = shared_case.case
    future = (timezone.now() + datetime.timedelta(hours=2)).isoformat()
    with pytest.raises(Exception) as caught:
        record(world, case, platform="myspace", content_reference="   ", occurred_at=future, colour="red")
    messages = caught.value.message_dict
    assert set(messages) == {"platform", "content_reference", "occurred_at", "colour"}
    with pytest.raises(Exception) as caught:
        record(world, case, content_reference=12345, text="x" * 10001)
    assert set(caught.value.message_dict) == {"content_reference", "text"}
    assert not TakedownRequest.objects.exists()
    assert not Action.objects.filter(type="takedown_requested").exists()


def test_outcomes_are_recorded_checked_and_audited(world, shared_case):
    case = shared_case.case
    takedown = record(world, case)
    before = timezone.now()
    removed = outcome(world, case, takedown, outcome="removed")
    assert removed.outcome == "removed" and removed.resolved_at >= before
    assert removed.outcome_recorded_by == world.lead_responder
    with translation.override("en"), pytest.raises(Exception, match="already recorded"):
        outcome(world, case, takedown, outcome="removed", resolved_at=removed.resolved_at)
    with pytest.raises(Exception) as caught:
        outcome(world, case, takedown, outcome="refused", resolved_at=takedown.requested_at - datetime.timedelta(1))
    assert "resolved_at" in caught.value.message_dict
    with pytest.raises(Exception) as caught:
        outcome(world, case, takedown, outcome="no_response",
                resolved_at=timezone.now() + datetime.timedelta(hours=1))
    assert "resolved_at" in caught.value.message_dict
    with pytest.raises(Exception) as caught:
        outcome(world, case, takedown, outcome="pending", resolved_at=timezone.now())
    assert "resolved_at" in caught.value.message_dict
    with pytest.raises(Exception) as caught:
        outcome(world, case, takedown, outcome="deleted")
    assert "outcome" in caught.value.message_dict
    exact = takedown.requested_at
    assert outcome(world, case, takedown, outcome="refused", resolved_at=exact).resolved_at == exact
    back = outcome(world, case, takedown, outcome="pending")
    assert (back.outcome, back.resolved_at) == ("pending", None)
    changes = AuditEvent.objects.filter(target=f"takedown:{takedown.pk}", action="change").order_by("pk")
    assert [(e.details["previous"], e.details["outcome"]) for e in changes] == [
        ("pending", "removed"), ("removed", "refused"), ("refused", "pending")]


def test_an_agency_that_cannot_read_the_category_neither_sees_nor_changes_the_request(world, shared_case):
    case = shared_case.case
    takedown = record(world, case)
    health = case_get_for_user(user=world.receiving_responder, case_id=case.pk)
    assert list(takedown_list_for_case(access=health)) == []
    with pytest.raises(Exception) as caught:
        outcome(world, case, takedown, user=world.receiving_responder, outcome="removed")
    assert caught.typename == "NotFound"
    # It may record its own request in a category it reads.
    own = record(world, case, user=world.receiving_responder, platform="tiktok", category="medical")
    assert list(takedown_list_for_case(access=health)) == [own]
    with pytest.raises(Exception) as caught:
        record(world, case, user=world.receiving_responder)  # police_legal by default: not readable
    assert "category" in caught.value.message_dict
    lead = case_get_for_user(user=world.lead_responder, case_id=case.pk)
    assert set(takedown_list_for_case(access=lead)) == {takedown, own}


# --- API -----------------------------------------------------------------------------------------


def test_api_records_lists_and_sets_the_outcome(world, shared_case, api):
    case = shared_case.case
    client = api(world.lead_responder)
    response = client.post(f"/api/cases/{case.pk}/takedowns/", {
        "platform": "zalo", "content_reference": "https://zalo.me/p/abc", "occurred_at": "2026-11-28T09:30:00+07:00",
    }, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["platform"] == "zalo" and data["outcome"] == "pending" and data["resolved_at"] is None
    assert data["requested_at"] == "2026-11-28T09:30:00+07:00"
    assert data["agency"]["sector"] == "police"
    assert "zalo.me" not in response.content.decode()
    listed = client.get(f"/api/cases/{case.pk}/takedowns/")
    assert listed.status_code == 200 and [t["id"] for t in listed.json()] == [data["id"]]
    changed = client.post(f"/api/cases/{case.pk}/takedowns/{data['id']}/outcome/", {"outcome": "removed"},
                          format="json")
    assert changed.status_code == 200 and changed.json()["outcome"] == "removed"
    assert changed.json()["resolved_at"] is not None


@pytest.mark.parametrize("body", [
    {"platform": "myspace", "content_reference": URL},
    {"platform": "facebook"},
    {"platform": "facebook", "content_reference": 42},
    {"platform": "facebook", "content_reference": URL, "image": "base64…"},
    {"platform": "facebook", "content_reference": "x" * 2001},
    {"platform": "facebook", "content_reference": URL, "occurred_at": "yesterday"},
    ["facebook", URL],
])
def test_api_bad_bodies_are_400_never_500(world, shared_case, api, body):
    response = api(world.lead_responder).post(f"/api/cases/{shared_case.case.pk}/takedowns/", body, format="json")
    assert response.status_code == 400, response.content
    assert not TakedownRequest.objects.exists()


def test_api_bad_outcomes_are_400(world, shared_case, api):
    takedown = record(world, shared_case.case)
    url = f"/api/cases/{shared_case.case.pk}/takedowns/{takedown.pk}/outcome/"
    client = api(world.lead_responder)
    for body in ({"outcome": "gone"}, {}, {"outcome": "removed", "resolved_at": "2000-01-01T00:00:00Z"},
                 {"outcome": "removed", "why": "x"}):
        assert client.post(url, body, format="json").status_code == 400, body
    assert client.post(f"/api/cases/{shared_case.case.pk}/takedowns/999999/outcome/", {"outcome": "removed"},
                       format="json").status_code == 404


@pytest.mark.parametrize(("user", "status"), [
    ("outsider_responder", 404), ("outsider_supervisor", 404), ("analyst", 404), ("province_analyst", 404),
    ("lead_admin", 404), (None, 403),
])
def test_api_refuses_the_wrong_people(world, shared_case, api, user, status):
    case = shared_case.case
    takedown = record(world, case)
    client = api(getattr(world, user) if user else None)
    assert client.get(f"/api/cases/{case.pk}/takedowns/").status_code == status
    assert client.post(f"/api/cases/{case.pk}/takedowns/", {"platform": "x", "content_reference": URL},
                       format="json").status_code == status
    assert client.post(f"/api/cases/{case.pk}/takedowns/{takedown.pk}/outcome/", {"outcome": "removed"},
                       format="json").status_code == status
    takedown.refresh_from_db()
    assert takedown.outcome == "pending" and TakedownRequest.objects.count() == 1


# --- Pages ---------------------------------------------------------------------------------------


def test_case_page_lists_requests_and_records_one_and_its_outcome(world, shared_case, web):
    case = shared_case.case
    client = web(world.lead_responder)
    page = client.get(f"/cases/{case.pk}/")
    assert 'data-testid="case-takedowns"' in page.content.decode()
    assert f'href="/cases/{case.pk}/takedowns/new/"' in page.content.decode()
    form = client.get(f"/cases/{case.pk}/takedowns/new/")
    assert form.status_code == 200 and 'data-testid="takedown-form"' in form.content.decode()
    response = client.post(f"/cases/{case.pk}/takedowns/new/", {
        "platform": "tiktok", "content_reference": "https://www.tiktok.com/@a/video/1", "category": "police_legal",
        "text": "",
    })
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    takedown = TakedownRequest.objects.get()
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'data-testid="takedown-{takedown.pk}"' in page and "tiktok.com" not in page
    response = client.post(f"/cases/{case.pk}/takedowns/{takedown.pk}/outcome/", {"outcome": "refused"})
    assert response.status_code == 302
    takedown.refresh_from_db()
    assert takedown.outcome == "refused"


def test_page_form_errors_are_shown_not_500(world, shared_case, web):
    case = shared_case.case
    client = web(world.lead_responder)
    response = client.post(f"/cases/{case.pk}/takedowns/new/", {"platform": "myspace", "content_reference": ""})
    assert response.status_code == 200 and 'class="field has-error"' in response.content.decode()
    takedown = record(world, case)
    response = client.post(f"/cases/{case.pk}/takedowns/{takedown.pk}/outcome/", {"outcome": "nope"})
    assert response.status_code == 302
    response = client.post(f"/cases/{case.pk}/takedowns/{takedown.pk}/outcome/", {"outcome": "pending"},
                           follow=True)
    assert "already recorded" in response.content.decode() or "đã được ghi" in response.content.decode()
    assert not TakedownRequest.objects.exclude(pk=takedown.pk).exists()


@pytest.mark.parametrize(("user", "status"), [
    ("outsider_responder", 404), ("analyst", 404), ("lead_admin", 404), (None, 302),
])
def test_pages_refuse_the_wrong_people(world, shared_case, web, user, status):
    case = shared_case.case
    takedown = record(world, case)
    client = web(getattr(world, user) if user else None)
    for response in (
        client.get(f"/cases/{case.pk}/takedowns/new/"),
        client.post(f"/cases/{case.pk}/takedowns/new/", {"platform": "x", "content_reference": URL}),
        client.post(f"/cases/{case.pk}/takedowns/{takedown.pk}/outcome/", {"outcome": "removed"}),
    ):
        assert response.status_code == status
        if status == 302:
            assert "/accounts/login/" in response["Location"] or "login" in response["Location"]
    takedown.refresh_from_db()
    assert takedown.outcome == "pending" and TakedownRequest.objects.count() == 1


def test_receiving_agency_page_hides_the_police_request(world, shared_case, web):
    case = shared_case.case
    takedown = record(world, case)
    page = web(world.receiving_responder).get(f"/cases/{case.pk}/").content.decode()
    assert f'data-testid="takedown-{takedown.pk}"' not in page
    response = web(world.receiving_responder).post(f"/cases/{case.pk}/takedowns/{takedown.pk}/outcome/",
                                                   {"outcome": "removed"})
    assert response.status_code == 404
