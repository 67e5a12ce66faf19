"""People of several agencies (issue 10, part 5), with the demo's two such people: the social worker
seconded to the Hà Nội child-protection hotline, and the Hồ Chí Minh City doctor who supervises a
shelter. They read the union of their agencies' cases and act for one agency at a time, chosen in
the header (pages) or with `X-Acting-Agency` (API); without a choice a write is a 400 / form error."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext
from rest_framework.test import APIClient

from agencies import demo
from agencies.acting import ACTING_AGENCY_SESSION_KEY
from agencies.models import Agency, Sector
from cases.models import Action, Case
from cases.selectors import case_get_for_user
from handoffs.models import Handoff, HandoffStatus
from tests.cases.conftest import SURVIVOR, incident_payload, open_payload
from tests.cases.services_helpers import case_open_through_edge, consent_record_through_edge, handoff_send_through_edge

pytestmark = pytest.mark.usefixtures("english")

SECONDED = "hn.social_work.hotline"
DOCTOR = "hcm.health.shelter"
NOTE = {"type": "note", "text": "Gọi lại cho nạn nhân"}


@pytest.fixture
def people(db):
    demo.seed_demo_world(steps=demo.BUILT_IN_STEPS)
    users = {u.username: u for u in get_user_model().objects.all()}

    def agency(province, sector):
        return Agency.objects.get(province__abbreviation=province, sector=sector)

    return {
        "users": users,
        "social_work": agency("HN", Sector.SOCIAL_WORK), "hotline": agency("HN", Sector.HOTLINE),
        "hn_police": agency("HN", Sector.POLICE),
        "health": agency("HCM", Sector.HEALTH), "shelter": agency("HCM", Sector.SHELTER),
    }


def _open(user, agency) -> Case:
    incident = incident_payload(province=agency.province.code)
    return case_open_through_edge(actor=user, agency=agency, survivor=dict(SURVIVOR), incident=incident,
                                  consent=None, risk_level="medium")


@pytest.fixture
def cases(people):
    users = people["users"]
    return {
        "social_work": _open(users[SECONDED], people["social_work"]),
        "hotline": _open(users[SECONDED], people["hotline"]),
        "police": _open(users["hn.police.responder"], people["hn_police"]),
    }


def _api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def _vi(text: str) -> str:
    """Pages speak Vietnamese unless the browser asks otherwise."""
    with translation.override("vi"):
        return gettext(text)


CHOOSE = "You work for several agencies: choose the agency you act for."


def _acting(agency) -> dict:
    return {"HTTP_X_ACTING_AGENCY": str(agency.pk)}


# --- API -------------------------------------------------------------------------------------------


def test_the_seconded_social_worker_reads_both_agencies_cases_in_the_api(people, cases):
    client = _api(people["users"][SECONDED])
    listed = {row["id"] for row in client.get("/api/cases/").json()["results"]}
    assert listed == {cases["social_work"].pk, cases["hotline"].pk}
    for agency in (None, people["social_work"], people["hotline"]):
        headers = _acting(agency) if agency else {}
        for key in ("social_work", "hotline"):
            response = client.get(f"/api/cases/{cases[key].pk}/", **headers)
            assert response.status_code == 200
            assert "full_name" in response.json()["survivor"]
        assert client.get(f"/api/cases/{cases['police'].pk}/", **headers).status_code == 404


def test_an_api_write_without_a_chosen_agency_is_a_400_and_writes_nothing(people, cases):
    client = _api(people["users"][SECONDED])
    response = client.post(f"/api/cases/{cases['social_work'].pk}/actions/", NOTE, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"agency"} and len(response.json()["agency"]) == 1
    opened = client.post("/api/cases/", open_payload(), format="json")
    assert opened.status_code == 400 and "agency" in opened.json()
    assert not Action.objects.filter(actor=people["users"][SECONDED]).exists()
    assert Case.objects.count() == 3


def test_api_writes_are_recorded_for_the_agency_named_in_the_header(people, cases):
    client = _api(people["users"][SECONDED])
    social_work, hotline = people["social_work"], people["hotline"]
    done = client.post(f"/api/cases/{cases['social_work'].pk}/actions/", NOTE, format="json", **_acting(social_work))
    assert done.status_code == 201, done.json()
    assert Action.objects.get(pk=done.json()["id"]).agency == social_work
    # Acting for the social work centre, the hotline's case is read-only: the centre is not on it.
    refused = client.post(f"/api/cases/{cases['hotline'].pk}/actions/", NOTE, format="json", **_acting(social_work))
    assert refused.status_code == 403
    detail = client.get(f"/api/cases/{cases['hotline'].pk}/", **_acting(social_work)).json()
    assert detail["access"]["agency"] is None and detail["access"]["rights"] == ["view_case"]
    done = client.post(f"/api/cases/{cases['hotline'].pk}/actions/", NOTE, format="json", **_acting(hotline))
    assert done.status_code == 201
    assert Action.objects.get(pk=done.json()["id"]).agency == hotline
    opened = client.post("/api/cases/", open_payload(), format="json", **_acting(hotline))
    assert opened.status_code == 201, opened.json()
    assert Case.objects.get(pk=opened.json()["id"]).lead_agency == hotline


def test_a_header_naming_someone_elses_agency_or_no_agency_is_a_400(people, cases):
    users = people["users"]
    url = f"/api/cases/{cases['social_work'].pk}/"
    for user, value in [(users[SECONDED], str(people["hn_police"].pk)), (users[SECONDED], "abc"),
                        (users[SECONDED], "0"), (users["hn.police.responder"], str(people["social_work"].pk)),
                        (users["analyst.hn"], str(people["social_work"].pk)),
                        (users["hn.admin"], str(people["social_work"].pk))]:
        response = _api(user).get(url, HTTP_X_ACTING_AGENCY=value)
        assert response.status_code == 400, (user, value)
        assert "agency" in response.json()
    assert _api().get(url, **_acting(people["social_work"])).status_code == 403
    # The doctor of Hồ Chí Minh City is nobody on Hà Nội's cases, whichever of her agencies she names.
    for agency in (people["health"], people["shelter"]):
        assert _api(users[DOCTOR]).get(url, **_acting(agency)).status_code == 404


@pytest.fixture
def referral(people):
    """A referral from the HCM hospital to the HCM shelter, consented, waiting for an answer."""
    users = people["users"]
    sender = users["hcm.health.responder"]
    case = _open(sender, people["health"])
    lead = case_get_for_user(user=sender, case_id=case.pk)
    consent_record_through_edge(access=lead, actor=sender, data={
        "receiving_agency": people["shelter"].pk, "granted_categories": ["psychosocial"], "purpose": "Tạm lánh",
        "given_by": "survivor"})
    return handoff_send_through_edge(access=lead, actor=sender, data={
        "kind": "referral", "to_agency": people["shelter"].pk, "services": ["shelter"],
        "urgency": "urgent", "categories": ["psychosocial"], "message": "Cần chỗ tạm lánh."})


def test_the_doctor_answers_a_handoff_only_while_acting_for_the_receiving_shelter(people, referral):
    client = _api(people["users"][DOCTOR])
    url = f"/api/handoffs/{referral.pk}/accept/"
    assert client.post(url, format="json").status_code == 400
    # She also works at the sending hospital: acting for it, she is the sender, who cannot accept.
    assert client.post(url, format="json", **_acting(people["health"])).status_code == 403
    assert Handoff.objects.get(pk=referral.pk).status == HandoffStatus.SENT
    assert client.post(url, format="json", **_acting(people["shelter"])).status_code == 200
    assert Handoff.objects.get(pk=referral.pk).status == HandoffStatus.ACCEPTED


def test_the_header_is_documented_in_the_openapi_schema(people):
    schema = _api(people["users"][SECONDED]).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path, method in [("/api/cases/", "post"), ("/api/cases/{case_id}/actions/", "post"),
                         ("/api/handoffs/{handoff_id}/accept/", "post"), ("/api/cases/{case_id}/", "get")]:
        names = {p["name"] for p in paths[path][method].get("parameters", []) if p["in"] == "header"}
        assert "X-Acting-Agency" in names, (path, method)


# --- Pages -----------------------------------------------------------------------------------------


def _web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_header_offers_the_switch_only_to_people_of_several_agencies(people):
    users = people["users"]
    page = _web(users[SECONDED]).get("/cases/").content.decode()
    assert 'data-testid="acting-agency"' in page
    assert people["social_work"].name in page and people["hotline"].name in page
    assert _vi("Choose an agency") in page
    for username in ("hn.police.responder", "hn.social_work.supervisor", "analyst.hn"):
        assert 'data-testid="acting-agency"' not in _web(users[username]).get("/", follow=True).content.decode()
    page = _web(users[DOCTOR]).get("/cases/").content.decode()
    assert people["health"].name in page and people["shelter"].name in page


def test_a_page_write_asks_to_choose_then_is_recorded_for_the_agency_chosen(people, cases):
    client = _web(people["users"][SECONDED])
    url = f"/cases/{cases['social_work'].pk}/actions/new/"
    form = {"type": "note", "category": "general", "text": NOTE["text"]}
    detail = client.get(f"/cases/{cases['social_work'].pk}/").content.decode()
    assert 'data-testid="choose-agency"' in detail
    page = client.post(url, form)
    assert page.status_code == 200
    assert _vi(CHOOSE) in page.content.decode()
    assert not Action.objects.filter(actor=people["users"][SECONDED]).exists()
    switched = client.post("/acting-agency/", {"agency": people["social_work"].pk, "next": url})
    assert switched.status_code == 302 and switched.url == url
    assert client.session[ACTING_AGENCY_SESSION_KEY] == people["social_work"].pk
    assert client.post(url, form).status_code == 302
    assert Action.objects.get(actor=people["users"][SECONDED]).agency == people["social_work"]
    page = client.get(url).content.decode()
    assert f'<option value="{people["social_work"].pk}" selected>' in page
    assert 'data-testid="choose-agency"' not in client.get(f"/cases/{cases['social_work'].pk}/").content.decode()
    # Opening a case, the agency the person acts for comes preselected.
    client.post("/acting-agency/", {"agency": people["hotline"].pk})
    opening = client.get("/cases/new/").content.decode()
    assert f'<option value="{people["hotline"].pk}" selected>' in opening


def test_the_switch_refuses_an_agency_that_is_not_the_persons(people):
    users = people["users"]
    client = _web(users[SECONDED])
    client.post("/acting-agency/", {"agency": people["hotline"].pk})
    for value in (people["hn_police"].pk, "abc", ""):
        response = client.post("/acting-agency/", {"agency": value, "next": "/cases/"}, follow=True)
        text = response.content.decode()
        assert _vi("You do not work on cases for this agency.") in text or \
            _vi("The acting agency must be an agency id.") in text
        assert client.session[ACTING_AGENCY_SESSION_KEY] == people["hotline"].pk
    outsider = _web(users["hn.police.responder"])
    outsider.post("/acting-agency/", {"agency": people["social_work"].pk})
    assert ACTING_AGENCY_SESSION_KEY not in outsider.session
    # Off-site `next` is not followed; anonymous people sign in first; GET changes nothing.
    assert client.post("/acting-agency/", {"agency": people["hotline"].pk, "next": "https://evil.example/"}).url == "/"
    assert Client().post("/acting-agency/", {"agency": people["hotline"].pk}).url.startswith("/login/")
    assert client.get("/acting-agency/").status_code == 405


def test_the_doctor_accepts_on_the_page_once_acting_for_the_shelter(people, referral):
    client = _web(people["users"][DOCTOR])
    url = f"/handoffs/{referral.pk}/accept/"
    page = client.post(url, follow=True).content.decode()
    assert _vi(CHOOSE) in page
    client.post("/acting-agency/", {"agency": people["health"].pk})
    assert client.post(url).status_code == 403
    assert Handoff.objects.get(pk=referral.pk).status == HandoffStatus.SENT
    client.post("/acting-agency/", {"agency": people["shelter"].pk})
    client.post(url)
    assert Handoff.objects.get(pk=referral.pk).status == HandoffStatus.ACCEPTED
