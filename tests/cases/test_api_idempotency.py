"""The API's POSTs that create a record do it once per Idempotency-Key (cases.apis.once_per_key): a client
that sends the request again after a dropped connection is answered with the record the first created."""

import datetime
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from cases.models import Action, Case, CaseNumberSequence, Consent, FormSending
from tests.cases.conftest import open_payload, shared_case_build
from tests.conftest import time_limits_ensure
from tests.support.schema import openapi_document
from tests.support.sql import two_sendings_at_once

NOTE = {"type": "note", "category": "general", "text": "Gọi điện hỏi thăm."}


def _post(client, url, body, key=None):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": str(key)}
    return client.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="en", **headers)


def _consent(world) -> dict:
    return {"receiving_sector": "education", "granted_categories": ["education"], "purpose": "An toàn ở trường",
            "given_by": "survivor", "expires_at": (timezone.now() + datetime.timedelta(days=30)).isoformat()}


def test_an_action_sent_twice_with_its_key_is_logged_once(world, shared_case, api):
    client, url, key = api(world.lead_responder), f"/api/cases/{shared_case.case.pk}/actions/", uuid.uuid4()
    before = Action.objects.count()
    first, again = _post(client, url, NOTE, key), _post(client, url, NOTE, key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert "Idempotent-Replayed" not in first and again["Idempotent-Replayed"] == "true"
    assert Action.objects.count() == before + 1
    assert FormSending.objects.get(token=key).location == f"cases.action:{first.json()['id']}"


def test_without_a_key_a_request_sent_twice_writes_twice(world, shared_case, api):
    """The key is the client's to send: without it nothing tells a resent request from a new one."""
    client, url = api(world.lead_responder), f"/api/cases/{shared_case.case.pk}/actions/"
    before = Action.objects.count()
    assert _post(client, url, NOTE).status_code == _post(client, url, NOTE).status_code == 201
    assert Action.objects.count() == before + 2 and not FormSending.objects.exists()


def test_a_case_opened_twice_with_its_key_is_one_case(world, api):
    client, key = api(world.lead_responder), uuid.uuid4()
    first, again = _post(client, "/api/cases/", open_payload(), key), _post(client, "/api/cases/", open_payload(), key)
    assert first.status_code == again.status_code == 201, first.json()
    assert first.json()["id"] == again.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1


def test_the_key_sent_again_with_another_body_is_refused(world, shared_case, api):
    client, url, key = api(world.lead_responder), f"/api/cases/{shared_case.case.pk}/actions/", uuid.uuid4()
    _post(client, url, NOTE, key)
    before = Action.objects.count()
    other = _post(client, url, {**NOTE, "text": "Một việc khác."}, key)
    assert other.status_code == 422 and "another request" in other.json()["Idempotency-Key"][0]
    assert Action.objects.count() == before


def test_a_refused_request_frees_its_key_for_the_corrected_one(world, shared_case, api):
    """Health cannot write police data: the refusal writes nothing, and the key is not spent."""
    client, url, key = api(world.receiving_responder), f"/api/cases/{shared_case.case.pk}/actions/", uuid.uuid4()
    before = Action.objects.count()
    assert _post(client, url, {**NOTE, "category": "police_legal"}, key).status_code == 400
    assert not FormSending.objects.exists()
    assert _post(client, url, NOTE, key).status_code == 201
    assert Action.objects.count() == before + 1


@pytest.mark.parametrize("header", ["1", "not-a-uuid", "0" * 33])
def test_a_key_that_is_not_a_uuid_is_refused(world, shared_case, api, header):
    before = Action.objects.count()
    response = _post(api(world.lead_responder), f"/api/cases/{shared_case.case.pk}/actions/", NOTE, header)
    assert response.status_code == 400 and response.json()["Idempotency-Key"] == ["Send a UUID."]
    assert Action.objects.count() == before


def test_someone_elses_key_writes_nothing_and_shows_nothing(world, shared_case, api):
    url, key = f"/api/cases/{shared_case.case.pk}/actions/", uuid.uuid4()
    first = _post(api(world.lead_responder), url, NOTE, key)
    before = Action.objects.count()
    other = _post(api(world.lead_supervisor), url, NOTE, key)
    assert other.status_code == 409 and str(first.json()["id"]) not in other.content.decode()
    assert Action.objects.count() == before


@pytest.mark.parametrize("role", ["outsider_responder", "analyst", None])
def test_the_wrong_person_is_refused_before_the_key_is_kept(world, shared_case, api, role):
    """Access is checked first: another agency and the analyst get 404, the anonymous caller 403, and no
    key is written that could tell them anything."""
    user = getattr(world, role) if role else None
    response = _post(api(user), f"/api/cases/{shared_case.case.pk}/consents/", _consent(world), uuid.uuid4())
    assert response.status_code == (404 if role else 403)
    assert not FormSending.objects.exists()


def test_the_schema_documents_the_key_on_the_operations_that_create(world):
    paths = openapi_document()["paths"]
    for path in ("/api/cases/", "/api/cases/{case_id}/actions/", "/api/cases/{case_id}/consents/"):
        operation = paths[path]["post"]
        assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
        assert {"409", "422"} <= set(operation["responses"])
    assert "Idempotency-Key" not in [p["name"] for p in paths["/api/cases/{case_id}/"]["patch"].get("parameters", [])]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's; SQLite serializes writes")
def test_two_requests_at_once_with_one_key_open_one_case(transactional_db, world, api, monkeypatch):
    """The first is held inside case_open (the case number's row lock, held here); the second arrives,
    waits for it, and is answered with its case."""
    time_limits_ensure()
    first_client, second_client, key = api(world.lead_responder), api(world.lead_responder), uuid.uuid4()
    sequence, _created = CaseNumberSequence.objects.get_or_create(province=world.police.province,
                                                                  year=timezone.localdate().year)
    first, second = two_sendings_at_once(
        lambda: CaseNumberSequence.objects.select_for_update().get(pk=sequence.pk),
        lambda: _post(first_client, "/api/cases/", open_payload(), key),
        lambda: _post(second_client, "/api/cases/", open_payload(), key), monkeypatch)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"] == Case.objects.get().pk


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's; SQLite serializes writes")
def test_two_consents_at_once_with_one_key_are_one(transactional_db, world, api, monkeypatch):
    time_limits_ensure()
    case = shared_case_build(world).case
    first_client, second_client, key = api(world.lead_responder), api(world.lead_responder), uuid.uuid4()
    url, before = f"/api/cases/{case.pk}/consents/", Consent.objects.count()
    body = _consent(world)
    first, second = two_sendings_at_once(
        lambda: Case.objects.select_for_update().get(pk=case.pk),
        lambda: _post(first_client, url, body, key), lambda: _post(second_client, url, body, key), monkeypatch)
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert Consent.objects.count() == before + 1


def test_a_referral_sent_twice_with_its_key_is_one_handoff(world, api):
    """Without the key the second is refused (one open handoff per agency); with it, it is answered."""
    from handoffs.models import Handoff
    from tests.handoffs.conftest import consented_case
    from tests.handoffs.test_api import body

    case = consented_case(world)
    client, url, key = api(world.lead_responder), f"/api/cases/{case.pk}/handoffs/", uuid.uuid4()
    first, again = _post(client, url, body(world), key), _post(client, url, body(world), key)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert again["Idempotent-Replayed"] == "true" and Handoff.objects.filter(case=case).count() == 1


def test_a_plan_item_sent_twice_with_its_key_is_one_item(world, shared_case, api):
    """A meeting write is answered with the meeting as it is; sent again with the key, with the meeting
    as it is then, and no second item."""
    from conferences.models import ActionPlanItem
    from conferences.services import meeting_hold
    from tests.conferences.conftest import access_of, meeting_build

    met = meeting_build(world, shared_case.case)
    meeting_hold(access=access_of(world.lead_supervisor, met.meeting), actor=world.lead_supervisor,
                 held_on=timezone.localdate())
    client, key = api(world.lead_supervisor), uuid.uuid4()
    url = f"/api/meetings/{met.meeting.pk}/plan-items/"
    item = {"meeting_case_id": met.row.pk, "action": "Khám lại", "owner_agency_id": world.health.pk,
            "due_at": (timezone.now() + datetime.timedelta(days=7)).isoformat()}
    first, again = _post(client, url, item, key), _post(client, url, item, key)
    assert first.status_code == again.status_code == 201, first.json()
    assert first.json()["id"] == again.json()["id"] == met.meeting.pk and again["Idempotent-Replayed"] == "true"
    assert ActionPlanItem.objects.filter(meeting_case=met.row).count() == 1


def test_a_request_sent_again_shows_only_what_the_reader_may_see_now(world, shared_case, api):
    """A replay is a read: once the action is of a category health may not see (here its category is
    changed under it, as a consent ended would), the request sent again is a 404 with nothing of the
    action, as reading it is; not its text, and not a 500."""
    client, url, key = api(world.receiving_responder), f"/api/cases/{shared_case.case.pk}/actions/", uuid.uuid4()
    body = {"type": "medical_care", "category": "medical", "text": "Khám và điều trị vết thương."}
    before = Action.objects.count()
    first = _post(client, url, body, key)
    assert first.status_code == 201
    Action.objects.filter(pk=first.json()["id"]).update(category="police_legal")
    again = _post(client, url, body, key)
    assert again.status_code == 404 and "Khám" not in again.content.decode()
    assert Action.objects.count() == before + 1
