"""Every privacy URL refuses the wrong person: another agency, an agency on the case without consent
for identity (the health agency of tests.cases' shared case), a ministry analyst, an anonymous caller;
the lead's responder where a supervisor is needed. And the query budgets of lists and details."""

import pytest
from django.contrib import messages
from django.contrib.messages import get_messages

from audit.models import AuditEvent
from privacy.models import AccessPackage
from privacy.services import access_package_build, legal_hold_place, privacy_request_decide, privacy_request_record
from tests.support.pages import form_tokens

pytestmark = pytest.mark.django_db

OUTSIDERS = ("outsider_supervisor", "receiving_supervisor", "analyst")


@pytest.fixture
def objects(world, shared_case, lead_access):
    case = shared_case.case
    dsr = privacy_request_record(access=lead_access(case), actor=world.lead_responder,
                                 data={"kind": "access", "requester": "survivor", "details": "Xin bản sao hồ sơ"})
    ready = privacy_request_record(access=lead_access(case), actor=world.lead_responder,
                                   data={"kind": "access", "requester": "survivor"})
    privacy_request_decide(user=world.lead_supervisor, request_id=ready.pk, data={"decision": "grant"})
    access_package_build(request_id=ready.pk)
    hold = legal_hold_place(user=world.lead_supervisor, case=case, data={"reason": "Điều tra hình sự"})
    return {"case": case.pk, "dsr": dsr.pk, "ready": ready.pk, "hold": hold.pk}


def _api_calls(o):
    return [
        ("get", f"/api/privacy/requests/{o['dsr']}/", None),
        ("post", f"/api/privacy/requests/{o['dsr']}/acknowledge/", {}),
        ("post", f"/api/privacy/requests/{o['dsr']}/decide/", {"decision": "grant", "outcome": "x"}),
        ("get", f"/api/privacy/requests/{o['ready']}/package/", None),
        ("post", f"/api/privacy/holds/{o['hold']}/release/", {"reason": "x"}),
        ("get", f"/api/cases/{o['case']}/privacy-requests/", None),
        ("get", f"/api/cases/{o['case']}/legal-holds/", None),
        ("post", f"/api/cases/{o['case']}/legal-holds/", {"reason": "x"}),
    ]


def _page_calls(o):
    return [
        ("get", f"/privacy/requests/{o['dsr']}/", None),
        ("post", f"/privacy/requests/{o['dsr']}/acknowledge/", {}),
        ("post", f"/privacy/requests/{o['dsr']}/decide/", {"decision": "grant", "outcome": "x"}),
        ("post", f"/privacy/requests/{o['ready']}/package/", {}),
        ("post", f"/privacy/holds/{o['hold']}/release/", {"reason": "x"}),
        ("get", f"/privacy/cases/{o['case']}/holds/", None),
        ("post", f"/privacy/cases/{o['case']}/holds/", {"reason": "x"}),
    ]


def _call(client, method, url, body):
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, format="json")


def _unchanged(o):
    assert AccessPackage.objects.get(request_id=o["ready"]).status == AccessPackage.Status.READY
    from privacy.models import DataSubjectRequest, LegalHold

    assert DataSubjectRequest.objects.get(pk=o["dsr"]).status == "received"
    assert LegalHold.objects.filter(case_id=o["case"]).count() == 1
    assert LegalHold.objects.get(pk=o["hold"]).released_at is None


@pytest.mark.parametrize("who", OUTSIDERS)
def test_api_refuses_other_agencies_and_analysts_with_404(world, objects, api, who):
    client = api(getattr(world, who))
    for method, url, body in _api_calls(objects):
        response = _call(client, method, url, body)
        assert response.status_code == 404, (who, method, url, response.status_code)
        assert "Xin bản sao" not in response.content.decode()
    assert client.get("/api/privacy/requests/").json() == []
    _unchanged(objects)


def test_api_record_refused_to_agencies_that_do_not_lead(world, objects, api):
    body = {"kind": "erasure", "requester": "survivor"}
    url = f"/api/cases/{objects['case']}/privacy-requests/"
    assert api(world.receiving_responder).post(url, body, format="json").status_code == 403  # on the case, not lead
    assert api(world.outsider_responder).post(url, body, format="json").status_code == 404
    assert api(world.analyst).post(url, body, format="json").status_code == 404
    assert api(None).post(url, body, format="json").status_code in (401, 403)


def test_api_refuses_anonymous(objects, api):
    client = api(None)
    for method, url, body in [*_api_calls(objects), ("get", "/api/privacy/requests/", None)]:
        response = _call(client, method, url, body)
        assert response.status_code in (401, 403), (method, url)
    _unchanged(objects)


def test_api_lead_responder_sees_but_may_not_decide(world, objects, api):
    client = api(world.lead_responder)
    assert client.get(f"/api/privacy/requests/{objects['dsr']}/").status_code == 200
    for method, url, body in _api_calls(objects):
        if method == "get" and "package" not in url:
            continue
        response = _call(client, method, url, body)
        assert response.status_code == 403, (method, url, response.status_code)
    _unchanged(objects)


@pytest.mark.parametrize("who", OUTSIDERS)
def test_pages_refuse_other_agencies_and_analysts(world, objects, web, who):
    client = web(getattr(world, who))
    for method, url, body in _page_calls(objects):
        response = getattr(client, method)(url, body) if body is not None else getattr(client, method)(url)
        assert response.status_code == 404, (who, method, url, response.status_code)
    assert "Xin bản sao" not in client.get("/privacy/requests/").content.decode()
    assert client.get(f"/privacy/cases/{objects['case']}/requests/new/").status_code == 404
    _unchanged(objects)


def test_pages_send_anonymous_to_sign_in(objects, web):
    client = web(None)
    for method, url, body in [*_page_calls(objects), ("get", "/privacy/requests/", None),
                              ("get", "/privacy/retention/", None)]:
        response = getattr(client, method)(url, body) if body is not None else getattr(client, method)(url)
        assert response.status_code == 302 and "/login/" in response["Location"], (method, url)
    _unchanged(objects)


def test_lead_supervisor_pages_in_both_languages(world, objects, web):
    client = web(world.lead_supervisor)
    page = client.get(f"/privacy/requests/{objects['dsr']}/", HTTP_ACCEPT_LANGUAGE="vi")
    assert page.status_code == 200 and "Xin bản sao hồ sơ" in page.content.decode()
    assert "Xác nhận" in page.content.decode()
    page = client.get(f"/privacy/requests/{objects['dsr']}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Acknowledge" in page.content.decode()
    assert client.get("/privacy/retention/").status_code == 200
    response = client.post(f"/privacy/requests/{objects['ready']}/package/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    again = client.post(f"/privacy/requests/{objects['ready']}/package/")
    assert again.status_code == 302


def test_bad_input_is_400_with_field_messages(world, objects, api, web):
    client = api(world.lead_supervisor)
    response = client.post(f"/api/privacy/requests/{objects['dsr']}/decide/", {"decision": "refuse"}, format="json")
    assert response.status_code == 400 and {"refusal_ground", "outcome"} <= set(response.json())
    response = client.post(f"/api/privacy/requests/{objects['dsr']}/decide/", {"decision": "maybe", "x": 1},
                           format="json")
    assert response.status_code == 400 and {"decision", "x"} <= set(response.json())
    response = client.post(f"/api/cases/{objects['case']}/privacy-requests/", {"kind": "forget"}, format="json")
    assert response.status_code == 400 and {"kind", "requester"} <= set(response.json())
    response = client.post(f"/api/cases/{objects['case']}/legal-holds/", {"reason": ""}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    page = web(world.lead_supervisor).post(f"/privacy/requests/{objects['dsr']}/decide/", {"decision": "refuse"})
    assert page.status_code == 400


def test_api_package_once_then_410(world, objects, api):
    client = api(world.lead_supervisor)
    first = client.get(f"/api/privacy/requests/{objects['ready']}/package/")
    assert first.status_code == 200 and first["Content-Type"] == "application/zip"
    assert client.get(f"/api/privacy/requests/{objects['ready']}/package/").status_code == 410


def test_query_budgets(world, objects, api, web, lead_access, django_assert_max_num_queries):
    client = api(world.lead_supervisor)
    pages = web(world.lead_supervisor)
    with django_assert_max_num_queries(12):
        assert len(client.get("/api/privacy/requests/").json()) == 2
    with django_assert_max_num_queries(14):
        assert client.get(f"/api/privacy/requests/{objects['dsr']}/").status_code == 200
    for _ in range(6):
        privacy_request_record(access=lead_access(objects_case := _case(objects)), actor=world.lead_responder,
                               data={"kind": "correction", "requester": "survivor"})
    assert objects_case
    with django_assert_max_num_queries(12):  # the same with four times the rows
        assert len(client.get("/api/privacy/requests/").json()) == 8
    with django_assert_max_num_queries(14):
        assert len(client.get(f"/api/cases/{objects['case']}/privacy-requests/").json()) == 8
    with django_assert_max_num_queries(14):
        assert pages.get("/privacy/requests/").status_code == 200
    with django_assert_max_num_queries(16):
        assert pages.get(f"/privacy/requests/{objects['dsr']}/").status_code == 200
    with django_assert_max_num_queries(14):
        assert len(client.get(f"/api/cases/{objects['case']}/legal-holds/").json()) == 1


def _case(objects):
    from cases.models import Case

    return Case.objects.get(pk=objects["case"])


def test_case_page_offers_privacy_links_to_the_lead_only(world, objects, web):
    url = f"/cases/{objects['case']}/"
    lead = web(world.lead_responder).get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="record-data-request"' in lead and 'data-testid="legal-holds"' in lead
    other = web(world.receiving_responder).get(url).content.decode()
    assert "record-data-request" not in other and "legal-holds" not in other
    form = web(world.lead_responder).get(f"/privacy/cases/{objects['case']}/requests/new/")
    assert form.status_code == 200
    saved = web(world.lead_responder).post(f"/privacy/cases/{objects['case']}/requests/new/",
                                           {"kind": "objection", "requester": "survivor", "details": "Phản đối"})
    assert saved.status_code == 302 and "/privacy/requests/" in saved["Location"]


def test_a_decision_and_a_release_sent_twice_are_made_once_and_the_second_is_told_so(world, objects, web):
    """The decision shown again with its errors keeps its token (the page's other forms get new ones); each
    sent twice is made once, and the second is told it was saved, not refused by the state."""
    client = web(world.lead_supervisor)
    decide = f"/privacy/requests/{objects['dsr']}/decide/"
    token = form_tokens(client.get(f"/privacy/requests/{objects['dsr']}/").content.decode())[decide]
    shown = client.post(decide, {"decision": "refuse", "sending_token": token})
    assert shown.status_code == 400 and form_tokens(shown.content.decode())[decide] == token
    release = f"/privacy/holds/{objects['hold']}/release/"
    holds_page = client.get(f"/privacy/cases/{objects['case']}/holds/").content.decode()
    for url, data in ((decide, {"decision": "grant", "outcome": "Cung cấp bản sao", "sending_token": token}),
                      (release, {"reason": "Đã xét xử xong", "sending_token": form_tokens(holds_page)[release]})):
        first = client.post(url, data)
        audited = AuditEvent.objects.count()
        again = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
        assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
        assert AuditEvent.objects.count() == audited
        told = {m.level: str(m) for m in get_messages(again.wsgi_request)}
        assert messages.ERROR not in told and "already been sent" in told[messages.INFO], url
