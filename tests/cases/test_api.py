"""The case API beyond who-may-what (tests/cases/test_permission_matrix.py): shapes, filters,
pagination, audit events, all-or-nothing changes, and 400s with field messages for bad input."""

import datetime
import re

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agencies.acting import acting_for
from agencies.services import agency_create, membership_add
from audit.models import AuditEvent
from cases.models import Action, Case, CaseEvent, Incident
from cases.selectors import case_get_for_user
from cases.serializers import IncidentInputSerializer
from cases.services import case_change_status, incident_record
from tests.cases.conftest import (
    SURVIVOR,
    case_build,
    gbvims_answers,
    incident_payload,
    medical_consent,
    open_payload,
    referral_accepted,
)
from tests.cases.services_helpers import consent_record_through_edge, through_edge
from tests.support.fuzz import json_values


def _events(**filters) -> int:
    return AuditEvent.objects.filter(**filters).count()


# --- Open ----------------------------------------------------------------------------------------


def test_open_returns_the_case_with_its_survivor_incident_and_access(world, api, today):
    payload = open_payload(consent=medical_consent(world))
    payload["incident"]["answers"] = gbvims_answers(sexual_contact=True)
    payload["incident"]["tech_forms"] = ["sextortion", "ncii"]

    response = api(world.lead_responder).post("/api/cases/", payload, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert re.fullmatch(rf"HN-{today.year}-\d{{6}}", body["number"]) and body["number"] == case.number
    assert body["status"] == "open" and body["risk_level"] == "high"
    assert body["lead_agency"]["id"] == world.police.pk
    assert body["responsible"]["id"] == world.lead_responder.pk
    assert body["survivor"]["full_name"] == SURVIVOR["full_name"] and body["survivor"]["pseudonym"].startswith("NC-")
    [incident] = body["incidents"]
    assert incident["gbv_type"] == "sexual_assault" and incident["tech_forms"] == ["ncii", "sextortion"]
    assert incident["reporting_delay"] == "0-3"
    assert set(body["access"]["rights"]) >= {"view_case", "change_case", "manage_sharing"}
    # The initial consent is recorded; once health is on the case it sees medical data only.
    assert case.consents.get().granted_categories == ["medical"]
    referral_accepted(world, case, to=world.health, categories=["medical", "identity"])
    health = case_get_for_user(user=world.receiving_responder, case_id=case.pk)
    assert health.categories == {"medical"}


def test_open_needs_the_agency_when_the_user_works_for_several(world, api):
    membership_add(user=world.lead_responder, agency=world.health, role="responder")
    client = api(world.lead_responder)

    response = client.post("/api/cases/", open_payload(), format="json")
    assert response.status_code == 400 and "agency" in response.json()
    assert Case.objects.count() == 0

    response = client.post("/api/cases/", open_payload(agency=world.health.pk), format="json")
    assert response.status_code == 201
    assert response.json()["lead_agency"]["id"] == world.health.pk


def test_open_for_an_agency_one_does_not_work_for_is_refused(world, api):
    response = api(world.lead_responder).post("/api/cases/", open_payload(agency=world.school.pk), format="json")
    assert response.status_code == 403
    response = api(world.lead_responder).post("/api/cases/", open_payload(agency=987654), format="json")
    assert response.status_code == 400 and "agency" in response.json()
    assert Case.objects.count() == 0


def test_an_agency_admin_cannot_open_cases(world, api):
    response = api(world.lead_admin).post("/api/cases/", open_payload(), format="json")
    assert response.status_code == 403


@pytest.mark.parametrize(("change", "field"), [
    ({"risk_level": "extreme"}, "risk_level"),
    ({"risk_level": None}, "risk_level"),
    ({"survivor": {**SURVIVOR, "birth_year": "nineteen"}}, "survivor.birth_year"),
    ({"survivor": {**SURVIVOR, "birth_year": 1990, "age": 30}}, "survivor.age"),
    ({"survivor": {**SURVIVOR, "phone": "call me"}}, "survivor.phone"),
    ({"survivor": {**SURVIVOR, "sex": "robot"}}, "survivor.sex"),
    ({"survivor": {**SURVIVOR, "full_name": "x" * 5000}}, "survivor.full_name"),
    ({"incident": incident_payload(answers={"penetration": "maybe"})}, "incident.answers.penetration"),
    ({"incident": incident_payload(answers={})}, "incident.answers.penetration"),
    ({"incident": incident_payload(answers={"penetration": False, "ghost": True})}, "incident.answers.ghost"),
    ({"incident": incident_payload(tech_forms=["telepathy"])}, "incident.tech_forms.0"),
    ({"incident": incident_payload(province="99")}, "incident.province"),
    ({"incident": incident_payload(occurred_on="2020-02-30")}, "incident.occurred_on"),
    (lambda: {"incident": incident_payload(
        occurred_on=(timezone.localdate() + datetime.timedelta(days=2)).isoformat())}, "incident.occurred_on"),
    ({"incident": incident_payload(commune="00000")}, "incident.commune"),
    ({"survivor": "Nguyễn Thị Hoa"}, "survivor.non_field_errors"),
    ({"consent": {"purpose": "x", "given_by": "survivor"}}, "consent.receiving_agency"),
    ({"consent": {"receiving_agency": 1, "granted_categories": ["medical"], "purpose": "x", "given_by": "dog"}},
     "consent.given_by"),
])
def test_open_with_bad_input_is_a_400_naming_the_field_and_writes_nothing(world, api, change, field):
    change = change() if callable(change) else change  # a row that reads the clock reads it as the test runs
    client = api(world.lead_responder)
    events = _events()
    response = client.post("/api/cases/", open_payload(**change), format="json")

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert all(isinstance(m, str) and m for m in response.json()[field])
    assert Case.objects.count() == 0 and _events() == events


def test_open_with_missing_parts_names_each_of_them(world, api):
    response = api(world.lead_responder).post("/api/cases/", {}, format="json")
    assert response.status_code == 400
    assert {"risk_level", "survivor", "incident"} <= set(response.json())


def test_child_consent_rules_reach_the_api_as_field_messages(world, api):
    payload = open_payload(consent=medical_consent(world))
    payload["survivor"] = {**SURVIVOR, "birth_year": None, "age": 10}
    response = api(world.lead_responder).post("/api/cases/", payload, format="json")
    assert response.status_code == 400
    assert "consent.given_by" in response.json()


# --- List ----------------------------------------------------------------------------------------


def test_list_filters_by_status_risk_province_number_and_time(world, api):
    low = case_build(world, risk_level="low")
    high = case_build(world, risk_level="high")
    in_hue = case_build(world, actor=world.outsider_responder, agency=world.school)
    membership_add(user=world.lead_responder, agency=world.school, role="responder")
    with acting_for(world.police.pk):
        case_change_status(access=case_get_for_user(user=world.lead_responder, case_id=high.pk),
                           actor=world.lead_responder, status="active")
    client = api(world.lead_responder)

    def numbers(query):
        response = client.get("/api/cases/" + query)
        assert response.status_code == 200, response.json()
        return [case["number"] for case in response.json()["results"]]

    assert set(numbers("")) == {low.number, high.number, in_hue.number}
    assert numbers("?status=active") == [high.number]
    assert numbers("?risk_level=low") == [low.number]
    assert numbers("?province=46") == [in_hue.number]
    assert numbers(f"?number={low.number.lower()}") == [low.number]
    high.refresh_from_db()
    since = high.updated_at.isoformat()
    assert numbers("?" + _query(updated_since=since)) == [high.number]


def test_list_rows_are_what_the_declared_fields_make_of_the_case(world, api):
    """CaseSummarySerializer writes its rows out by hand (the list's hot path); they must be what DRF's
    walk over the declared fields (the schema) makes of the same case, in the same order."""
    from rest_framework import serializers

    from cases.serializers import CaseSummarySerializer

    for risk_level in ("low", "high"):
        case_build(world, risk_level=risk_level)
    case_build(world, actor=world.outsider_responder, agency=world.school)
    for case in Case.objects.select_related("province", "lead_agency"):
        fast = CaseSummarySerializer(case).data
        walked = serializers.Serializer.to_representation(CaseSummarySerializer(case), case)
        assert list(fast.items()) == list(walked.items())
        assert fast["created_at"].endswith("+07:00"), fast["created_at"]
    with timezone.override("UTC"):
        case = Case.objects.select_related("province", "lead_agency").first()
        assert CaseSummarySerializer(case).data["updated_at"] == case.updated_at.isoformat().replace("+00:00", "Z")
    listed = api(world.lead_responder).get("/api/cases/").json()["results"]
    expected = [CaseSummarySerializer(case).data for case in Case.objects.select_related("province", "lead_agency")
                .filter(pk__in=[row["id"] for row in listed])]
    assert sorted(listed, key=lambda row: row["id"]) == sorted(expected, key=lambda row: row["id"])


def test_actions_are_what_the_declared_fields_make_of_them(world, api):
    """ActionSerializer writes an action out by hand (logging one is a hot path): the answer must be what
    DRF's walk over the declared fields (the schema) makes of the same action, in the same order."""
    from rest_framework import serializers

    from cases.serializers import ActionSerializer

    case = case_build(world)
    logged = api(world.lead_responder).post(f"/api/cases/{case.pk}/actions/", {"type": "contact", "text": "Gọi lại"},
                                            format="json")
    assert logged.status_code == 201, logged.content
    access = case_get_for_user(user=world.lead_responder, case_id=case.pk)
    actions = list(Action.objects.filter(case=case).select_related("actor", "agency"))
    assert actions
    for action in actions:
        serializer = ActionSerializer(action, context={"access": access})
        walked = serializers.Serializer.to_representation(serializer, action)
        assert list(serializer.data.items()) == list(walked.items())
    answered = next(action for action in actions if action.pk == logged.json()["id"])
    assert logged.json() == dict(ActionSerializer(answered, context={"access": access}).data)


@pytest.mark.parametrize("reader", ["lead_responder", "lead_supervisor", "receiving_responder"])
def test_the_detail_is_what_the_declared_fields_make_of_the_case(world, reader):
    """CaseDetailSerializer writes the detail out by hand (read at every case view); it must be what DRF's
    walk over the declared fields (the schema) makes of the same case for the same reader, in the same
    order: nested places, agencies and people, the survivor without the categories the reader lacks, every
    incident (an undated one, one without a commune), the statuses and the access."""
    from rest_framework import serializers

    from cases.apis import _access_context
    from cases.selectors import case_prefetch_for_detail
    from cases.serializers import SURVIVOR_FIELDS_BY_CATEGORY, CaseDetailSerializer, SurvivorSerializer
    from encryption import crypto

    case = case_build(world)
    lead = case_get_for_user(user=world.lead_responder, case_id=case.pk)
    consent_record_through_edge(access=lead, actor=world.lead_responder, data=medical_consent(world))
    referral_accepted(world, case, to=world.health, categories=["medical"])
    incident_record(access=lead, actor=world.lead_responder, data=through_edge(
        IncidentInputSerializer, incident_payload(tech_forms=["doxxing", "harassment"], occurred_on=None)))
    case_change_status(access=case_get_for_user(user=world.lead_responder, case_id=case.pk),
                       actor=world.lead_responder, status="active")
    access = case_get_for_user(user=getattr(world, reader), case_id=case.pk)
    case_prefetch_for_detail(access.case)
    context = _access_context(access)
    fast = CaseDetailSerializer(access.case, context=context).data
    # A survivor field of a category the reader does not hold is not even opened: still sealed after the write-out.
    hidden = {field: access.case.survivor.__dict__[field] for category, fields in SURVIVOR_FIELDS_BY_CATEGORY.items()
              if not access.sees(category) for field in fields}
    assert all(isinstance(value, crypto.Sealed) for value in hidden.values() if value)
    assert (reader == "receiving_responder") == any(hidden.values())
    walked = serializers.Serializer.to_representation(CaseDetailSerializer(access.case, context=context), access.case)
    walked_survivor = SurvivorSerializer(access.case.survivor, context=context).data
    assert walked["survivor"] == walked_survivor
    assert list(fast.items()) == list(walked.items())
    assert [list(row) for row in fast["incidents"]] == [list(row) for row in walked["incidents"]]
    assert len(fast["incidents"]) == 2
    assert ("full_name" in fast["survivor"]) == access.sees("identity")


def _query(**params) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


@pytest.mark.parametrize(("query", "field"), [
    ("status=lost", "status"),
    ("risk_level=%20", "risk_level"),
    ("updated_since=yesterday", "updated_since"),
    ("number=" + "9" * 50, "number"),
    ("province=" + "1" * 20, "province"),
])
def test_list_with_a_bad_filter_is_a_400(world, api, query, field):
    response = api(world.lead_responder).get("/api/cases/?" + query)
    assert response.status_code == 400
    assert field in response.json()


def test_list_pages_with_a_cursor_newest_first_and_audits_each_page(world, api):
    cases = [case_build(world) for _ in range(5)]
    client = api(world.lead_responder)
    seen, url, pages = [], "/api/cases/?page_size=2", 0
    while url:
        before = _events(action="list")
        response = client.get(url)
        assert response.status_code == 200
        page = [case["id"] for case in response.json()["results"]]
        seen += page
        event = AuditEvent.objects.filter(action="list").latest("seq")
        assert _events(action="list") == before + 1
        assert event.details["case_ids"] == page and event.actor == world.lead_responder
        url, pages = response.json()["next"], pages + 1
    assert pages == 3
    expected = [c.pk for c in Case.objects.filter(pk__in=[c.pk for c in cases]).order_by("-updated_at", "-id")]
    assert seen == expected


def test_list_with_a_broken_cursor_is_refused_cleanly(world, api):
    response = api(world.lead_responder).get("/api/cases/?cursor=not-a-cursor")
    assert response.status_code == 404


# --- Detail and its audit ------------------------------------------------------------------------


def test_each_detail_read_writes_one_view_event_naming_the_categories_shown(world, shared_case, api):
    client = api(world.receiving_responder)
    before = _events(action="view", case_id=shared_case.case.pk)
    for expected in (1, 2, 3):
        assert client.get(f"/api/cases/{shared_case.case.pk}/").status_code == 200
        assert _events(action="view", case_id=shared_case.case.pk) == before + expected
    event = AuditEvent.objects.filter(action="view").latest("seq")
    assert event.categories == ["medical"] and event.agency_id == world.health.pk


def test_refused_reads_write_no_view_event(world, shared_case, api):
    outsider, analyst = api(world.outsider_responder), api(world.analyst)
    before = _events(action="view")
    assert outsider.get(f"/api/cases/{shared_case.case.pk}/").status_code == 404
    assert analyst.get(f"/api/cases/{shared_case.case.pk}/").status_code == 404
    assert _events(action="view") == before


@pytest.mark.django_db(transaction=True)
def test_the_view_event_survives_a_failure_after_the_read(world, shared_case, api, monkeypatch):
    from cases import serializers

    def explode(self, case):
        raise RuntimeError("serializer broke after the read")

    monkeypatch.setattr(serializers.CaseDetailSerializer, "to_representation", explode)
    client = api(world.lead_responder)
    client.raise_request_exception = False
    before = _events(action="view", case_id=shared_case.case.pk)

    response = client.get(f"/api/cases/{shared_case.case.pk}/")

    assert response.status_code == 500
    assert _events(action="view", case_id=shared_case.case.pk) == before + 1


def test_a_case_id_that_is_not_a_number_is_not_found(world, api):
    assert api(world.lead_responder).get("/api/cases/abc/").status_code == 404


# --- Change --------------------------------------------------------------------------------------


def test_patch_changes_risk_responsible_and_status_together(world, shared_case, api):
    case = shared_case.case
    response = api(world.lead_responder).patch(
        f"/api/cases/{case.pk}/",
        {"risk_level": "severe", "responsible": world.lead_supervisor.pk, "status": "active"}, format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["risk_level"] == "severe" and body["status"] == "active"
    assert body["responsible"]["id"] == world.lead_supervisor.pk
    case.refresh_from_db()
    assert (case.risk_level, case.status, case.responsible_id) == ("severe", "active", world.lead_supervisor.pk)


def test_patch_is_all_or_nothing(world, shared_case, api):
    case = shared_case.case
    events = CaseEvent.objects.count()
    response = api(world.lead_responder).patch(
        f"/api/cases/{case.pk}/", {"risk_level": "severe", "status": "reopened"}, format="json",
    )
    assert response.status_code == 409 and "status" in response.json()
    case.refresh_from_db()
    assert case.risk_level == "medium" and case.status == "open"
    assert CaseEvent.objects.count() == events


# --- Incidents, actions --------------------------------------------------------------------------


def test_record_an_incident(world, shared_case, api):
    payload = incident_payload(answers=gbvims_answers(psychological_abuse=True), tech_forms=["doxxing"])
    response = api(world.lead_responder).post(f"/api/cases/{shared_case.case.pk}/incidents/", payload,
                                              format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["gbv_type"] == "psychological_abuse" and response.json()["tech_forms"] == ["doxxing"]
    assert Incident.objects.filter(case=shared_case.case).count() == 2


def test_log_an_action_with_the_category_of_its_type(world, shared_case, api):
    response = api(world.receiving_responder).post(
        f"/api/cases/{shared_case.case.pk}/actions/", {"type": "forensic_exam", "text": "Khám trong 72 giờ."},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["category"] == "medical" and body["agency"]["id"] == world.health.pk
    assert Action.objects.get(pk=body["id"]).text == "Khám trong 72 giờ."


# --- Consent -------------------------------------------------------------------------------------


def test_withdrawing_consent_takes_effect_on_the_next_request(world, shared_case, api):
    case_id, health = shared_case.case.pk, api(world.receiving_responder)
    assert health.get(f"/api/cases/{case_id}/").status_code == 200
    assert any(a["category"] == "medical" for a in health.get(f"/api/cases/{case_id}/actions/").json())

    response = api(world.lead_responder).post(
        f"/api/cases/{case_id}/consents/{shared_case.consent.pk}/withdraw/", {"reason": "Đổi ý"}, format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["withdrawn_at"] and response.json()["in_force"] is False

    assert health.get(f"/api/cases/{case_id}/").status_code == 404
    assert health.get(f"/api/cases/{case_id}/actions/").status_code == 404
    assert case_id not in [c["id"] for c in health.get("/api/cases/").json()["results"]]


def test_withdrawing_twice_or_someone_elses_consent_is_refused(world, shared_case, api):
    client = api(world.lead_responder)
    url = f"/api/cases/{shared_case.case.pk}/consents/{shared_case.consent.pk}/withdraw/"
    assert client.post(url, {}, format="json").status_code == 200
    again = client.post(url, {}, format="json")
    assert again.status_code == 400 and "consent_id" in again.json()
    other = case_build(world)
    assert client.post(f"/api/cases/{other.pk}/consents/{shared_case.consent.pk}/withdraw/", {},
                       format="json").status_code == 404


def test_record_consent_and_list_consents(world, shared_case, api):
    client = api(world.lead_supervisor)
    response = client.post(f"/api/cases/{shared_case.case.pk}/consents/", {
        "receiving_sector": "education", "granted_categories": ["education"], "purpose": "An toàn ở trường",
        "given_by": "survivor", "expires_at": (timezone.now() + datetime.timedelta(days=30)).isoformat(),
    }, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["receiving_sector"] == "education" and response.json()["receiving_agency"] is None
    listed = client.get(f"/api/cases/{shared_case.case.pk}/consents/").json()
    assert [c["id"] for c in listed] == [response.json()["id"], shared_case.consent.pk]


def test_an_emergency_override_is_recorded_for_review(world, shared_case, api):
    body = {"receiving_agency": world.school.pk, "granted_categories": ["medical"], "purpose": "Cấp cứu",
            "given_by": "survivor", "emergency_override": True, "override_reason": "Nguy hiểm đến tính mạng."}
    response = api(world.lead_responder).post(f"/api/cases/{shared_case.case.pk}/consents/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["needs_review"] is True
    assert AuditEvent.objects.filter(action="consent_override", case_id=shared_case.case.pk).count() == 1


# --- Timeline ------------------------------------------------------------------------------------


def test_timeline_hides_what_the_reader_may_not_see_but_says_that_it_happened(world, shared_case, api):
    entries = api(world.receiving_responder).get(f"/api/cases/{shared_case.case.pk}/timeline/").json()
    hidden = [e for e in entries if e["hidden"]]
    assert hidden and all(e["details"] == "" and e["action_id"] is None for e in hidden)
    assert {e["category"] for e in hidden} == {"identity", "contact", "police_legal", "education", "psychosocial"}
    assert entries[-1]["type"] == "opened"


# --- Schema --------------------------------------------------------------------------------------

OPERATIONS = {
    ("/api/cases/", "get"): "cases_list",
    ("/api/cases/", "post"): "cases_open",
    ("/api/cases/{case_id}/", "get"): "cases_retrieve",
    ("/api/cases/{case_id}/", "patch"): "cases_update",
    ("/api/cases/{case_id}/incidents/", "post"): "cases_incidents_record",
    ("/api/cases/{case_id}/actions/", "get"): "cases_actions_list",
    ("/api/cases/{case_id}/actions/", "post"): "cases_actions_log",
    ("/api/cases/{case_id}/consents/", "get"): "cases_consents_list",
    ("/api/cases/{case_id}/consents/", "post"): "cases_consents_record",
    ("/api/cases/{case_id}/consents/{consent_id}/withdraw/", "post"): "cases_consents_withdraw",
    ("/api/cases/{case_id}/timeline/", "get"): "cases_timeline",
}


def test_the_schema_documents_every_case_operation_with_its_shapes(world, api):
    response = api(world.lead_responder).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    for (path, method), operation_id in OPERATIONS.items():
        operation = schema["paths"][path][method]
        assert operation["operationId"] == operation_id
        ok = "201" if operation_id in ("cases_open", "cases_incidents_record", "cases_actions_log",
                                       "cases_consents_record") else "200"
        assert "schema" in operation["responses"][ok]["content"]["application/json"], operation_id
        if method in ("post", "patch"):
            assert "application/json" in operation["requestBody"]["content"], operation_id
            assert "400" in operation["responses"], operation_id
        if "{case_id}" in path:
            assert "404" in operation["responses"], operation_id
    survivor = schema["components"]["schemas"]["CaseSurvivor"]
    assert "full_name" in survivor["properties"] and "full_name" not in survivor["required"]


def test_new_agencies_do_not_disturb_the_lists(world, api):
    """An agency created after a case opened sees nothing of it."""
    newcomer = agency_create(name="Hội LHPN phường Ba Đình", sector="womens_union", province=world.hanoi)
    shared = case_build(world)
    from tests.conftest import make_user

    user = make_user("newcomer")
    membership_add(user=user, agency=newcomer, role="responder")
    assert api(user).get("/api/cases/").json()["results"] == []
    assert api(user).get(f"/api/cases/{shared.pk}/").status_code == 404


# Any JSON value in any field: a 201 or a 400 with field messages, never a 500.
_json = json_values(text_size=40, key_size=12, leaves=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    survivor=st.dictionaries(st.sampled_from(["full_name", "birth_year", "age", "sex", "phone"]), _json, max_size=3),
    incident=st.dictionaries(st.sampled_from(["province", "answers", "tech_forms", "occurred_on"]), _json, max_size=4),
    risk_level=_json,
)
def test_fuzzed_open_bodies_never_fail_with_a_500(world, api, survivor, incident, risk_level):
    body = {"survivor": survivor, "incident": {**incident_payload(), **incident}, "risk_level": risk_level}
    response = api(world.lead_responder).post("/api/cases/", body, format="json")
    assert response.status_code in (201, 400), (response.status_code, body)
    if response.status_code == 400:
        assert response.json() and all(isinstance(m, list) for m in response.json().values())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(st.sampled_from(["type", "category", "text", "occurred_at"]), _json, max_size=4))
def test_fuzzed_action_bodies_never_fail_with_a_500(world, shared_case, api, body):
    response = api(world.receiving_responder).post(f"/api/cases/{shared_case.case.pk}/actions/", body,
                                                   format="json")
    assert response.status_code in (201, 400), (response.status_code, body)
