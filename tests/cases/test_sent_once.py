"""A form that writes on a case writes once however often it is sent (cases.sending): a double tap on a
slow connection, or Save tapped again after the first answer never came."""

import datetime
import uuid

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from cases import sending
from cases.models import Action, Case, CaseEvent, Consent, FormSending
from cases.pages import posted_fingerprint
from tests.conftest import time_limits_ensure
from tests.support.pages import FORM, TOKEN, form_tokens, page_token, sent_twice
from tests.support.sql import two_sendings_at_once

from .conftest import shared_case_build

NOTE = {"type": "note", "category": "general", "text": "Gọi điện hỏi thăm."}


def _token(client, url: str) -> str:
    return page_token(client.get(url).content.decode())


def _consent_form(world, token: str) -> dict:
    return {"receiving_agency": str(world.school.pk), "granted_categories": ["education"], "purpose": "Hỗ trợ ở trường",
            "given_by": "survivor", "sending_token": token,
            "expires_at": (timezone.localtime() + datetime.timedelta(days=90)).strftime("%Y-%m-%dT%H:%M")}


def test_each_rendered_form_has_its_own_token(world, shared_case, web):
    client = web(world.lead_responder)
    url = f"/cases/{shared_case.case.pk}/actions/new/"
    assert _token(client, url) != _token(client, url)


def test_an_action_sent_twice_is_logged_once_and_both_land_on_the_case(world, shared_case, web):
    client = web(world.lead_responder)
    url = f"/cases/{shared_case.case.pk}/actions/new/"
    data = {**NOTE, "sending_token": _token(client, url)}
    before = Action.objects.count()
    first = client.post(url, data)
    again = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"] == f"/cases/{shared_case.case.pk}/"
    assert Action.objects.count() == before + 1
    assert "already been sent" in " ".join(str(m) for m in get_messages(again.wsgi_request))


def test_consent_sent_twice_is_recorded_once(world, shared_case, web):
    client = web(world.lead_responder)
    url = f"/cases/{shared_case.case.pk}/consents/new/"
    data = _consent_form(world, _token(client, url))
    before = Consent.objects.count()
    assert client.post(url, data).status_code == client.post(url, data).status_code == 302
    assert Consent.objects.count() == before + 1


def test_a_form_refused_then_corrected_keeps_its_token_and_is_saved(world, shared_case, web):
    """The refusal (here the service's: health cannot write police data) writes nothing and frees the token."""
    client = web(world.receiving_responder)
    url = f"/cases/{shared_case.case.pk}/actions/new/"
    token = _token(client, url)
    before = Action.objects.count()
    refused = client.post(url, {**NOTE, "category": "police_legal", "sending_token": token})
    assert refused.status_code == 200 and f'value="{token}"' in refused.content.decode()
    assert not FormSending.objects.filter(token=token).exists()
    assert client.post(url, {**NOTE, "sending_token": token}).status_code == 302
    assert Action.objects.count() == before + 1
    assert FormSending.objects.get(token=token).location == f"/cases/{shared_case.case.pk}/"


def test_someone_elses_token_writes_nothing_and_shows_nothing(world, shared_case, web):
    url = f"/cases/{shared_case.case.pk}/actions/new/"
    owner = web(world.lead_responder)
    token = _token(owner, url)
    owner.post(url, {**NOTE, "sending_token": token})
    before = Action.objects.count()
    other = web(world.lead_supervisor).post(url, {**NOTE, "sending_token": token}, HTTP_ACCEPT_LANGUAGE="en")
    assert other.status_code == 409 and "can no longer be sent" in other.content.decode()
    assert token not in other.content.decode()
    assert Action.objects.count() == before


def test_a_sending_whose_answer_never_came_is_not_written_again_blindly(world, shared_case, web):
    """The first sending's worker was killed after it began, long ago: nobody knows whether it saved. The
    form comes back, with its values, a message and a new token; nothing is written."""
    client = web(world.lead_responder)
    url = f"/cases/{shared_case.case.pk}/actions/new/"
    token = uuid.uuid4()
    data = {**NOTE, "sending_token": str(token)}
    FormSending.objects.create(token=token, user=world.lead_responder,
                               fingerprint=posted_fingerprint(RequestFactory().post(url, data)),
                               created_at=timezone.now() - sending.SENDING_WAIT - datetime.timedelta(seconds=1))
    before = Action.objects.count()
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 409 and "may have been saved" in page and "Gọi điện hỏi thăm." in page
    assert str(token) not in page and TOKEN.search(page)
    assert Action.objects.count() == before


def test_a_form_sent_again_with_other_values_is_not_taken_for_the_first(world, shared_case, web):
    """The form was sent, then shown again from the browser's history (Back) with the token it was drawn
    with, and changed: what was typed the second time is shown again to be sent, not dropped as if it were
    the first sending (cases.pages.posted_fingerprint)."""
    client = web(world.lead_responder)
    url = f"/cases/{shared_case.case.pk}/actions/new/"
    token = _token(client, url)
    assert client.post(url, {**NOTE, "sending_token": token}).status_code == 302
    before = Action.objects.count()
    changed = {**NOTE, "text": "Đã hẹn gặp lại vào thứ Hai.", "sending_token": token}
    response = client.post(url, changed, HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 409 and "already been sent with other values" in page
    assert "Đã hẹn gặp lại vào thứ Hai." in page and token not in page
    assert Action.objects.count() == before
    assert client.post(url, {**changed, "sending_token": page_token(page)}).status_code == 302
    assert Action.objects.count() == before + 1


def test_a_change_sent_again_with_another_choice_is_refused_and_told(world, shared_case, web):
    """A status button drawn once, sent, and sent again from the browser's history with another status: the
    second is not taken for the first (nothing said) nor made blindly on a page that has moved on."""
    client = web(world.lead_responder)
    case_url = f"/cases/{shared_case.case.pk}/"
    token = form_tokens(client.get(case_url).content.decode())[f"{case_url}status/"]
    client.post(f"{case_url}status/", {"status": "active", "sending_token": token})
    events = CaseEvent.objects.count()
    again = client.post(f"{case_url}status/", {"status": "closed", "sending_token": token}, HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 302 and again["Location"] == case_url
    told = {m.level_tag: str(m) for m in get_messages(again.wsgi_request)}
    assert "already been sent with other values" in told["error"]
    assert Case.objects.get(pk=shared_case.case.pk).status == "active" and CaseEvent.objects.count() == events


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's; SQLite serializes writes")
def test_two_sendings_at_once_write_once(transactional_db, world, web, monkeypatch):
    """The double tap itself: the first sending is held inside its service (consent takes the case's row
    lock, held here); the second arrives, waits for the first, then lands where it did."""
    time_limits_ensure()
    case = shared_case_build(world).case
    url = f"/cases/{case.pk}/consents/new/"
    first_client, second_client = web(world.lead_responder), web(world.lead_responder)
    data = _consent_form(world, _token(first_client, url))
    before = Consent.objects.count()
    first, second = two_sendings_at_once(
        lambda: Case.objects.select_for_update().get(pk=case.pk),
        lambda: first_client.post(url, data), lambda: second_client.post(url, data), monkeypatch)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/cases/{case.pk}/"
    assert Consent.objects.count() == before + 1


def test_a_risk_assessment_completed_twice_is_one_assessment(world, shared_case, web):
    """The second "Complete" found no draft (the first had completed it) and completed a second one."""
    from risk.models import RiskAssessment
    from tests.risk.conftest import answers_with

    client = web(world.lead_responder)
    url = f"/cases/{shared_case.case.pk}/risk/assess/"
    data = {**{f"item_{code}": value for code, value in answers_with(3).items()}, "complete": "1",
            "sending_token": _token(client, url)}
    first, again = client.post(url, data), client.post(url, data)
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
    assert RiskAssessment.objects.filter(case=shared_case.case).count() == 1


def test_a_data_subject_request_sent_twice_is_recorded_once(world, shared_case, web):
    from privacy.models import DataSubjectRequest

    client = web(world.lead_responder)
    url = f"/privacy/cases/{shared_case.case.pk}/requests/new/"
    data = {"kind": "objection", "requester": "survivor", "details": "Phản đối", "sending_token": _token(client, url)}
    first, again = client.post(url, data), client.post(url, data)
    assert first.status_code == again.status_code == 302 and "/privacy/requests/" in first["Location"]
    assert again["Location"] == first["Location"]
    assert DataSubjectRequest.objects.filter(case=shared_case.case).count() == 1


def test_a_change_posted_from_the_case_page_twice_is_made_once_and_not_refused(world, shared_case, web):
    """The status buttons (cases.pages.case_change_posted): the second sending is told the first was saved,
    not refused because the case has moved on."""
    client = web(world.lead_responder)
    case_url = f"/cases/{shared_case.case.pk}/"
    token = form_tokens(client.get(case_url).content.decode())[f"{case_url}status/"]
    first, again = sent_twice(client, CaseEvent, f"{case_url}status/", {"status": "active", "sending_token": token},
                              written=1)
    assert first["Location"] == case_url and Case.objects.get(pk=shared_case.case.pk).status == "active"
    told = {m.level_tag: str(m) for m in get_messages(again.wsgi_request)}  # the first's message not yet shown
    assert "error" not in told and "already been sent" in told["info"]


# The forms that write and carry no token, by template: (how many, why sending one twice is harmless).
# Every other form that posts carries one (_sending_token.html) and its view writes it once.
WITHOUT_TOKEN = {
    "base.html": (3, "the language, the acting agency, signing out: the same again"),
    "accounts/_code_form.html": (1, "a second-factor code is used once by django-otp"),
    "accounts/login.html": (1, "signing in"),
    "accounts/mfa_status.html": (1, "the person's own second factor"),
    "accounts/password_change.html": (1, "the person's own password"),
    "accounts/signins.html": (2, "ending a session or a token: ended already"),
    "agencies/_staff_form.html": (1, "a username is unique; the one-time password is never kept to show again"),
    "agencies/staff_list.html": (6, "setting a role, a lockout, a right or a setting: the same again; a reissued "
                                    "password is never kept to show again"),
    "agencies/staff_remove.html": (1, "removed already"),
    "cases/_intake_draft_choice.html": (1, "discarding a draft: gone already"),
    "cases/intake_check.html": (1, "discarding the draft: gone already"),
    "notifications/centre.html": (2, "read already"),
    "notifications/preferences.html": (1, "the same preferences again"),
    "privacy/request_detail.html": (1, "the package is downloaded once, and destroyed as it is handed over"),
}


def test_every_form_that_writes_carries_a_token_but_those_listed():
    root = settings.BASE_DIR / "jinja2_templates"
    without = {}
    for path in sorted(root.rglob("*.html")):
        bare = [body for attributes, body in FORM.findall(path.read_text())
                if 'method="post"' in attributes.lower() and "_sending_token.html" not in body]
        if bare:
            without[str(path.relative_to(root))] = len(bare)
    assert without == {template: count for template, (count, _why) in WITHOUT_TOKEN.items()}
