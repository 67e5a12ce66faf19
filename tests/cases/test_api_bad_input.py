"""The case API's 400s (and 415s) for bad input and malformed bodies: every field message, and a
refused write leaves nothing behind.

Every test here posts to the same shared case and is refused, so the world and the shared case are
written once for the module (inside module_transaction, as Django's setUpTestData) and each test gets
its own copy of them; whatever a test writes (a write that should have been refused) is rolled back
after it. These ~100 tests each wrote their world and shared case before, most of their time. The
API's successful writes are tested in tests/cases/test_api.py.
"""

import datetime

import pytest
from django.utils import timezone

from cases.models import Action, Consent
from tests.cases.conftest import SharedWorld, incident_payload, medical_consent, shared_world_build
from tests.conftest import module_built_part


@pytest.fixture(scope="module")
def built_once(module_transaction, django_db_blocker) -> SharedWorld:
    with django_db_blocker.unblock():
        return shared_world_build()


world = module_built_part("world")
shared_case = module_built_part("shared_case")


# --- Case changes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "field"), [
    ({}, "non_field_errors"),
    ({"risk_level": 3}, "risk_level"),
    ({"status": "archived"}, "status"),
    ({"responsible": "someone"}, "responsible"),
    ({"statistics_consent": "perhaps"}, "statistics_consent"),
])
def test_patch_with_bad_input_is_a_400(world, shared_case, api, body, field):
    response = api(world.lead_responder).patch(f"/api/cases/{shared_case.case.pk}/", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()


def test_patch_refuses_a_responsible_person_outside_the_lead_agency(world, shared_case, api):
    response = api(world.lead_responder).patch(
        f"/api/cases/{shared_case.case.pk}/", {"responsible": world.receiving_responder.pk}, format="json",
    )
    assert response.status_code == 400 and "responsible" in response.json()


# --- Incidents, actions --------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "field"), [
    ({"province": "01"}, "answers"),
    (incident_payload(answers={"penetration": None}), "answers.penetration"),
    (incident_payload(province=""), "province"),
    (incident_payload(perpetrator_relationship="alien"), "perpetrator_relationship"),
    (incident_payload(reported_on="tomorrow"), "reported_on"),
])
def test_record_an_incident_with_bad_input_is_a_400(world, shared_case, api, body, field):
    response = api(world.lead_responder).post(f"/api/cases/{shared_case.case.pk}/incidents/", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()


@pytest.mark.parametrize(("body", "field"), [
    ({"type": "statement_taken", "text": "..."}, "category"),  # police/legal: not shared with health
    ({"type": "note", "category": "identity"}, "category"),
    ({"type": "dance"}, "type"),
    ({"text": "no type"}, "type"),
    ({"type": "note", "text": "x" * 10001}, "text"),
    ({"type": "note", "occurred_at": "soon"}, "occurred_at"),
    ({"type": "note", "occurred_at": (timezone.now() + datetime.timedelta(days=1)).isoformat()}, "occurred_at"),
])
def test_log_an_action_with_bad_input_is_a_400(world, shared_case, api, body, field):
    actions = Action.objects.count()
    response = api(world.receiving_responder).post(f"/api/cases/{shared_case.case.pk}/actions/", body,
                                                   format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert Action.objects.count() == actions


# --- Consent -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "field"), [
    ({"reason": 5}, "reason"),
    ({"reason": "x" * 301}, "reason"),
    ({"reason": "\x00"}, "reason"),
    ({"why": "no"}, "why"),
])
def test_withdraw_with_bad_input_is_a_400(world, shared_case, api, body, field):
    url = f"/api/cases/{shared_case.case.pk}/consents/{shared_case.consent.pk}/withdraw/"
    response = api(world.lead_responder).post(url, body, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    shared_case.consent.refresh_from_db()
    assert shared_case.consent.withdrawn_at is None


@pytest.mark.parametrize(("change", "field"), [
    # refused to health by the record in force
    ({"granted_categories": ["identity"], "refused_categories": []}, "granted_categories"),
    ({"granted_categories": ["medical"], "refused_categories": ["medical"]}, "refused_categories"),
    ({"granted_categories": ["x-ray"]}, "granted_categories.0"),
    ({"granted_categories": "medical"}, "granted_categories"),
    ({"receiving_agency": "health"}, "receiving_agency"),
    ({"receiving_sector": "police"}, "receiving_agency"),
    ({"purpose": ""}, "purpose"),
    ({"emergency_override": True}, "override_reason"),
    ({"override_reason": "no override"}, "override_reason"),
    ({"expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
])
def test_record_consent_with_bad_input_is_a_400(world, shared_case, api, change, field):
    consents = Consent.objects.count()
    body = {**medical_consent(world), **change}
    response = api(world.lead_responder).post(f"/api/cases/{shared_case.case.pk}/consents/", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert Consent.objects.count() == consents


# --- Malformed requests never reach a 500 --------------------------------------------------------

POSTS = [
    "/api/cases/",
    "/api/cases/{case}/incidents/",
    "/api/cases/{case}/actions/",
    "/api/cases/{case}/consents/",
    "/api/cases/{case}/consents/{consent}/withdraw/",
]
MALFORMED = [
    ("application/json", b"{not json"),
    ("application/json", b"[1, 2, 3]"),
    ("application/json", b'"just a string"'),
    ("application/json", b"null"),
    ("application/json", b'{"type": {"nested": ["deep"]}, "survivor": [], "incident": 7, "reason": 5}'),
    ("application/json", b'{"text": "\\u0000", "purpose": "\\u0000", "reason": "\\u0000"}'),
    ("application/json", ('{"text": "' + "x" * 200_000 + '", "reason": "' + "y" * 200_000 + '"}').encode()),
    ("application/json", b"\xff\xfe\x00garbage"),
    ("application/json", b'{"risk_level": NaN, "reason": Infinity, "text": -Infinity}'),
]


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize(("content_type", "body"), MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_bodies_are_400s(world, shared_case, api, path, content_type, body):
    url = path.format(case=shared_case.case.pk, consent=shared_case.consent.pk)
    response = api(world.lead_responder).generic("POST", url, body, content_type=content_type)
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert isinstance(response.json(), dict) and response.json()


@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_body_that_is_not_json_is_refused_as_unsupported(world, shared_case, api, method):
    url = "/api/cases/" if method == "post" else f"/api/cases/{shared_case.case.pk}/"
    response = getattr(api(world.lead_responder), method)(url, "risk_level=high", content_type="text/plain")
    assert response.status_code == 415


def test_patch_with_malformed_json_is_a_400(world, shared_case, api):
    response = api(world.lead_responder).generic("PATCH", f"/api/cases/{shared_case.case.pk}/", b"{oops",
                                                 content_type="application/json")
    assert response.status_code == 400
