"""The guided intake (cases.intake): steps saved as an encrypted draft on the server, checked with
the one-page form's rules, the child path, the draft's owner and expiry, the offer after signing in
again, the idle-timeout endpoint and the pages' query budgets. The browser side (Enter, the error
summary's focus, the timeout warning, the tap count) is in tests/browser/test_intake_flow.py."""

import datetime
import json
import re
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone, translation

from agencies.models import Commune
from agencies.services import membership_add
from audit.models import AuditEvent
from cases.models import Case, CaseNumberSequence, Consent, IntakeDraft
from tests.conftest import PASSWORD
from tests.support.pages import form_tokens, page_token, sent_twice
from tests.support.sql import two_sendings_at_once


def vi(message: str) -> str:
    """The message as the pages show it (Vietnamese is the default language)."""
    with translation.override("vi"):
        return translation.gettext(message)

WHO_ADULT = {"full_name": "Lê Thị Mai", "sex": "female", "age": "24", "phone": "0934 567 890", "go": "next"}
WHO_CHILD = {"full_name": "Trần Thị Lan", "sex": "female", "age": "14", "phone": "0934 111 222",
             "guardian_name": "Trần Văn Hùng", "guardian_phone": "0912 333 444", "go": "next"}


def _what() -> dict:
    """The "what happened" step, dated from the day the test runs."""
    today = timezone.localdate()
    return {"what_happened": "psychological_abuse", "tech_forms": ["sextortion"],
            "perpetrator_relationship": "online_contact",
            "occurred_on": (today - datetime.timedelta(days=2)).isoformat(), "reported_on": today.isoformat(),
            "province": "01", "commune_name": "phường ba đình", "go": "next"}


RISK = {"risk_level": "high", "statistics_consent": "on", "go": "next"}


@pytest.fixture
def commune(world):
    return Commune.objects.create(code="00004", name="Phường Ba Đình", province=world.hanoi, valid_from="2025-07-01")


def _start(client, data=WHO_ADULT):
    response = client.post("/cases/intake/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    draft_id = int(re.search(r"/cases/intake/(\d+)/what/", response["Location"]).group(1))
    return draft_id


def _step(client, draft_id, step, data):
    return client.post(f"/cases/intake/{draft_id}/{step}/", data)


def _walk_to_check(client, *, who=WHO_ADULT, consent=None):
    draft_id = _start(client, who)
    assert _step(client, draft_id, "what", _what())["Location"].endswith(f"/{draft_id}/risk/")
    assert _step(client, draft_id, "risk", RISK)["Location"].endswith(f"/{draft_id}/consent/")
    response = _step(client, draft_id, "consent", consent or {"share": "no", "go": "next"})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"].endswith(f"/{draft_id}/check/")
    return draft_id


def test_the_steps_open_the_case_with_the_services_rules(world, web, commune):
    client = web(world.lead_responder)
    page = client.get("/cases/intake/")
    assert page.status_code == 200 and 'data-testid="intake-form"' in page.content.decode()
    draft_id = _walk_to_check(client)
    check = client.get(f"/cases/intake/{draft_id}/check/").content.decode()
    assert "Lê Thị Mai" in check and "Phường Ba Đình" in check
    response = client.post(f"/cases/intake/{draft_id}/check/")
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    incident = case.incidents.get()
    # "Psychological abuse" as the first that applies: every earlier GBVIMS question is "no".
    assert incident.gbv_type == "psychological_abuse"
    assert incident.classification_answers == {
        "penetration": False, "sexual_contact": False, "physical_assault": False, "forced_marriage": False,
        "denial_of_resources": False, "psychological_abuse": True,
    }
    assert incident.commune == commune
    assert list(incident.tech_form_rows.values_list("form", flat=True)) == ["sextortion"]
    assert case.risk_level == "high" and case.lead_agency == world.police and case.responsible == world.lead_responder
    assert case.survivor.full_name == "Lê Thị Mai" and case.survivor.sex == "female"
    assert AuditEvent.objects.filter(case_id=case.pk, action="create").exists()
    # The draft is gone once the case is open.
    assert not IntakeDraft.objects.exists()


def test_the_draft_is_encrypted_at_rest(world, web, commune):
    client = web(world.lead_responder)
    draft_id = _start(client)
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM cases_intakedraft WHERE id = %s", [draft_id])
        stored = cursor.fetchone()[0]
    assert "Lê Thị Mai" not in stored and "0934" not in stored
    assert json.loads(IntakeDraft.objects.get().data)["full_name"] == ["Lê Thị Mai"]


def test_the_first_step_sent_twice_makes_one_draft_and_both_go_on_with_it(world, web):
    """The first step makes the draft, with the survivor's name in it: a double tap makes one, not two."""
    client = web(world.lead_responder)
    token = form_tokens(client.get("/cases/intake/").content.decode())["/cases/intake/"]
    first, _again = sent_twice(client, IntakeDraft, "/cases/intake/", {**WHO_ADULT, "sending_token": token},
                               written=1)
    assert first["Location"] == f"/cases/intake/{IntakeDraft.objects.get().pk}/what/"
    # With errors, the first shows them (the draft kept); the second goes on to that draft's step.
    token = form_tokens(client.get("/cases/intake/?new=1").content.decode())["/cases/intake/"]
    bad = {**WHO_ADULT, "phone": "abc", "sending_token": token}
    assert client.post("/cases/intake/", bad).status_code == 400
    again = client.post("/cases/intake/", bad)
    draft = IntakeDraft.objects.latest("pk")
    assert again.status_code == 302 and again["Location"] == f"/cases/intake/{draft.pk}/who/"
    assert IntakeDraft.objects.count() == 2


def test_the_first_step_sent_again_with_other_values_keeps_them_and_makes_no_draft(world, web):
    """Sent, then shown again from the browser's history and changed (another survivor): the second is not
    taken for the first, which would go on with the first draft and drop the name typed; it comes back with
    what was typed and a new token, and nothing is saved."""
    client = web(world.lead_responder)
    token = form_tokens(client.get("/cases/intake/").content.decode())["/cases/intake/"]
    assert client.post("/cases/intake/", {**WHO_ADULT, "sending_token": token}).status_code == 302
    other = {**WHO_ADULT, "full_name": "Phạm Thị Hoa", "sending_token": token}
    response = client.post("/cases/intake/", other)
    page = response.content.decode()
    assert response.status_code == 409
    assert vi("This form had already been sent with other values. What you sent now was not saved: check it and "
              "send it again.") in page
    assert "Phạm Thị Hoa" in page and token not in page and IntakeDraft.objects.count() == 1
    sent = client.post("/cases/intake/", {**other, "sending_token": page_token(page)})
    assert sent.status_code == 302 and IntakeDraft.objects.count() == 2


def test_odd_values_saved_by_back_leave_every_page_of_the_draft_working(world, web):
    """Back saves a step without checking it, so the draft holds what was typed, however odd: an agency id
    "²" (a digit to str.isdigit(), not to int()) broke the check page for good; a province code with a NUL
    byte (which PostgreSQL refuses in text) broke the communes list and the "what happened" step."""
    client = web(world.lead_responder)
    draft_id = _start(client)
    assert _step(client, draft_id, "consent", {"share": "yes", "consent_receiving_agency": "²",
                                               "go": "back"}).status_code == 302
    assert client.get(f"/cases/intake/{draft_id}/check/").status_code == 200
    assert _step(client, draft_id, "what", {"province": "0\x001", "commune_name": "Ba\x00Đình",
                                            "go": "back"}).status_code == 302
    assert client.get(f"/cases/intake/{draft_id}/what/").status_code == 200
    assert client.get(f"/cases/intake/{draft_id}/check/").status_code == 200
    assert client.get("/cases/intake/communes/", {"province": "0\x001"}).status_code == 200
    assert _step(client, draft_id, "what", {"province": "0\x001", "go": "next"}).status_code == 400


def test_a_step_with_errors_shows_them_all_at_once_and_keeps_what_was_typed(world, web):
    client = web(world.lead_responder)
    response = client.post("/cases/intake/", {
        "full_name": "Lê Thị Mai", "sex": "female", "age": "24", "birth_year": "2000", "phone": "abc", "go": "next",
    })
    assert response.status_code == 400
    html = response.content.decode()
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    # Both messages in the summary, each linking to its field.
    assert 'href="#id_phone"' in summary and 'href="#id_age"' in summary
    assert vi("Give the birth year or the age, not both.") in summary
    # What was typed is saved all the same.
    draft = IntakeDraft.objects.get()
    assert json.loads(draft.data)["full_name"] == ["Lê Thị Mai"]
    assert 'value="Lê Thị Mai"' in html


def test_a_step_is_checked_by_the_services_rules(world, web, today):
    client = web(world.lead_responder)
    draft_id = _start(client)
    future = (today + datetime.timedelta(days=3)).isoformat()
    response = _step(client, draft_id, "what", {**_what(), "occurred_on": future, "what_happened": "",
                                                "commune_name": "Không có"})
    assert response.status_code == 400
    summary = re.search(r'<div class="error-summary".*?</div>', response.content.decode(), re.S).group(0)
    assert 'href="#id_what_happened_0"' in summary and 'href="#id_occurred_on"' in summary
    assert 'href="#id_commune_name"' in summary
    assert vi("The date cannot be in the future.") in summary
    assert IntakeDraft.objects.get().step == "what"


def test_the_child_path_needs_no_extra_submit(world, web, commune):
    client = web(world.lead_responder)
    draft_id = _start(client, WHO_CHILD)
    _step(client, draft_id, "what", _what())
    _step(client, draft_id, "risk", RISK)
    consent_page = client.get(f"/cases/intake/{draft_id}/consent/").content.decode()
    # The only person who may consent for a 14-year-old is preselected.
    assert re.search(r'<input type="radio" name="consent_given_by" value="survivor_and_guardian"[^>]*checked',
                     consent_page)
    response = _step(client, draft_id, "consent", {
        "share": "yes", "consent_receiving_sector": "social_work",
        "consent_granted_categories": ["contact", "psychosocial"], "consent_purpose": "Hỗ trợ tâm lý",
        "consent_given_by": "survivor_and_guardian", "consent_guardian_relationship": "Bố", "go": "next",
    })
    assert response.status_code == 302 and response["Location"].endswith("/check/")
    assert client.post(f"/cases/intake/{draft_id}/check/").status_code == 302
    case = Case.objects.get()
    assert case.survivor.guardian_name == "Trần Văn Hùng"
    consent = Consent.objects.get(case=case)
    assert consent.given_by == "survivor_and_guardian" and consent.receiving_sector == "social_work"


def test_the_child_rules_of_the_services_apply(world, web, commune):
    client = web(world.lead_responder)
    draft_id = _start(client, WHO_CHILD)
    _step(client, draft_id, "what", _what())
    _step(client, draft_id, "risk", RISK)
    response = _step(client, draft_id, "consent", {
        "share": "yes", "consent_receiving_sector": "social_work", "consent_granted_categories": ["contact"],
        "consent_purpose": "Hỗ trợ", "consent_given_by": "survivor", "go": "next",
    })
    assert response.status_code == 400
    assert vi("A child aged 7 to 15 consents together with a parent or guardian.") in response.content.decode()


def test_consent_left_out_when_not_sharing(world, web, commune):
    client = web(world.lead_responder)
    draft_id = _walk_to_check(client, consent={"share": "no", "consent_purpose": "bỏ qua", "go": "next"})
    client.post(f"/cases/intake/{draft_id}/check/")
    assert not Consent.objects.exists() and Case.objects.count() == 1


def test_check_your_answers_lists_errors_of_every_step_with_links(world, web, commune, today):
    client = web(world.lead_responder)
    draft_id = _walk_to_check(client)
    # The commune ends between the step and the check: the service refuses, the page says where.
    Commune.objects.filter(pk=commune.pk).update(valid_to=today, valid_from="2025-01-01")
    response = client.post(f"/cases/intake/{draft_id}/check/")
    assert response.status_code == 400 and not Case.objects.exists()
    summary = re.search(r'<div class="error-summary".*?</div>', response.content.decode(), re.S).group(0)
    assert f'href="/cases/intake/{draft_id}/what/?return=check#id_commune_name"' in summary


def test_back_saves_without_checking(world, web):
    client = web(world.lead_responder)
    draft_id = _start(client)
    response = _step(client, draft_id, "what", {"what_happened": "", "occurred_on": "garbage", "go": "back"})
    assert response.status_code == 302 and response["Location"].endswith(f"/{draft_id}/who/")
    assert json.loads(IntakeDraft.objects.get().data)["occurred_on"] == ["garbage"]


def test_enter_cannot_submit_a_step_without_script(world, web):
    """The first submit button of every step form is disabled: by the HTML rules of implicit
    submission, Enter in a field then submits nothing (the browser test presses it)."""
    html = web(world.lead_responder).get("/cases/intake/").content.decode()
    form = re.search(r'<form method="post" action="/cases/intake/".*?</form>', html, re.S).group(0)
    first_button = re.search(r"<button[^>]*>", form).group(0)
    assert "disabled" in first_button and 'type="submit"' in first_button


# --- Who may see a draft -------------------------------------------------------------------------


@pytest.fixture
def draft_id(world, web):
    return _start(web(world.lead_responder))


@pytest.mark.parametrize("who", ["lead_supervisor", "receiving_responder", "outsider_responder"])
def test_nobody_else_reaches_a_draft(world, web, draft_id, who):
    """Another person of the same agency, of another agency: 404 on every page of the draft, and
    the draft is untouched."""
    client = web(getattr(world, who))
    before = IntakeDraft.objects.get().data
    for step in ("who", "what", "risk", "consent", "check"):
        assert client.get(f"/cases/intake/{draft_id}/{step}/").status_code == 404
        response = client.post(f"/cases/intake/{draft_id}/{step}/", {"full_name": "X", "go": "next"})
        assert response.status_code == 404
    assert client.post(f"/cases/intake/{draft_id}/discard/").status_code == 404
    start = client.get("/cases/intake/").content.decode()
    assert "Lê Thị Mai" not in start and f"/cases/intake/{draft_id}/" not in start
    assert IntakeDraft.objects.get().data == before and not Case.objects.exists()


def test_people_without_a_case_role_are_refused(world, web, draft_id):
    for who in ("lead_admin", "analyst", "province_analyst"):
        client = web(getattr(world, who))
        assert client.get("/cases/intake/").status_code == 403
        assert client.get(f"/cases/intake/{draft_id}/who/").status_code == 403
        assert client.get("/cases/intake/communes/?province=01").status_code == 403


def test_anonymous_is_sent_to_sign_in(world, draft_id):
    client = Client()
    for url in ("/cases/intake/", f"/cases/intake/{draft_id}/who/", f"/cases/intake/{draft_id}/check/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.post(f"/cases/intake/{draft_id}/check/").status_code == 302
    assert client.post(f"/cases/intake/{draft_id}/discard/").status_code == 302
    assert IntakeDraft.objects.count() == 1 and not Case.objects.exists()


def test_a_draft_belongs_to_the_agency_acted_for(world, web):
    """A person of two agencies keeps a draft per agency: acting for the other, it is not there."""
    membership_add(user=world.lead_responder, agency=world.health, role="responder")
    client = web(world.lead_responder)
    session = client.session
    session["acting_agency_id"] = world.police.pk
    session.save()
    draft_id = _start(client)
    assert IntakeDraft.objects.get().agency == world.police
    session = client.session
    session["acting_agency_id"] = world.health.pk
    session.save()
    assert client.get(f"/cases/intake/{draft_id}/what/").status_code == 404
    session = client.session
    del session["acting_agency_id"]
    session.save()
    assert client.get("/cases/intake/").status_code == 400
    assert client.get(f"/cases/intake/{draft_id}/what/").status_code == 404


def test_the_draft_expires(world, web, draft_id, settings):
    client = web(world.lead_responder)
    draft = IntakeDraft.objects.get()
    assert draft.expires_at - draft.updated_at == datetime.timedelta(hours=settings.INTAKE_DRAFT_HOURS)
    IntakeDraft.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert client.get(f"/cases/intake/{draft_id}/what/").status_code == 404
    assert "Lê Thị Mai" not in client.get("/cases/intake/").content.decode()


def test_expired_drafts_and_tokens_are_deleted_by_the_beat_whether_or_not_anyone_comes_back(world, web, draft_id,
                                                                                             settings):
    """An expired draft (the survivor's name and phone in it) was deleted only when someone next started an
    intake: at an office where nobody did, it stayed. The hourly task deletes it, and the old form tokens."""
    from cases import sending
    from cases.models import FormSending
    from cases.tasks import delete_expired_forms

    entry = settings.CELERY_BEAT_SCHEDULE["expired-forms"]
    assert entry["task"] == "cases.tasks.delete_expired_forms" and entry["schedule"].minute == {20}
    fresh = _start(web(world.lead_supervisor))
    IntakeDraft.objects.filter(pk=draft_id).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    now = timezone.now()
    old, new = (FormSending.objects.create(token=uuid.uuid4(), user=world.lead_responder, location="/cases/1/",
                                           created_at=at)
                for at in (now - sending.SENDING_KEPT - datetime.timedelta(minutes=1), now))
    assert delete_expired_forms.apply().get() == {"drafts": 1, "sendings": 1}
    assert list(IntakeDraft.objects.values_list("pk", flat=True)) == [fresh]
    assert not FormSending.objects.filter(pk=old.pk).exists() and FormSending.objects.filter(pk=new.pk).exists()


# --- Session: the draft offered again after signing in, staying signed in -------------------------


def test_the_draft_is_offered_again_after_signing_in(world, draft_id):
    client = Client()
    assert client.post("/login/", {"username": "lead_responder", "password": PASSWORD}).status_code == 302
    home = client.get("/work/", follow=True).content.decode()
    assert 'data-testid="intake-resume"' in home
    assert f"/cases/intake/{draft_id}/what/" in home
    time = timezone.localtime(IntakeDraft.objects.get().updated_at).strftime("%H:%M")
    assert time in home
    # Offered once: the next page does not repeat it.
    assert 'data-testid="intake-resume"' not in client.get("/cases/").content.decode()
    # Discard from the offer.
    assert client.post(f"/cases/intake/{draft_id}/discard/").status_code == 302
    assert not IntakeDraft.objects.exists()


def test_nothing_offered_to_someone_else_after_signing_in(world, draft_id):
    client = Client()
    client.post("/login/", {"username": "receiving_responder", "password": PASSWORD})
    assert 'data-testid="intake-resume"' not in client.get("/work/", follow=True).content.decode()


def test_the_session_extend_endpoint(world, web, settings):
    client = web(world.lead_responder)
    assert client.get("/account/session/extend/").status_code == 405
    response = client.post("/account/session/extend/")
    assert response.status_code == 200 and response.json() == {
        "signed_in": True, "idle_seconds": settings.SESSION_COOKIE_AGE}
    anonymous = Client()
    assert anonymous.post("/account/session/extend/").status_code == 401


def test_signed_in_pages_carry_the_timeout_warning(world, web, settings):
    settings.SESSION_WARNING_SECONDS = 120
    html = web(world.lead_responder).get("/cases/").content.decode()
    box = re.search(r'<div id="session-warning"[^>]*>', html).group(0)
    # Timed from the session's stored expiry, which the session store renews at most every
    # SESSION_RENEW_SECONDS (tests/accounts/test_session_idle.py).
    idle = int(re.search(r'data-idle-seconds="(\d+)"', box).group(1))
    assert settings.SESSION_COOKIE_AGE - settings.SESSION_RENEW_SECONDS <= idle <= settings.SESSION_COOKIE_AGE
    assert 'data-warn-seconds="120"' in box
    assert "hidden" in box and 'role="alertdialog"' in box
    assert 'id="session-warning"' not in Client().get("/login/").content.decode()


# --- Query budgets -------------------------------------------------------------------------------


def test_query_budgets_of_the_intake_pages(world, web, commune, django_assert_max_num_queries):
    for index in range(30):
        Commune.objects.create(code=f"9{index:04d}", name=f"Xã {index}", province=world.hanoi,
                               valid_from="2025-07-01")
    client = web(world.lead_responder)
    client.get("/cases/")  # the session and its caches are warm
    with django_assert_max_num_queries(12):
        client.get("/cases/intake/")
    draft_id = _walk_to_check(client)
    for step in ("who", "what", "risk", "consent"):
        with django_assert_max_num_queries(14):
            assert client.get(f"/cases/intake/{draft_id}/{step}/").status_code == 200
    with django_assert_max_num_queries(16):
        assert _step(client, draft_id, "what", _what()).status_code == 302
    with django_assert_max_num_queries(14):
        assert client.get(f"/cases/intake/{draft_id}/check/").status_code == 200


def test_open_the_case_sent_again_after_it_opened_lands_on_the_case(world, web, commune):
    """The first answer never came, the draft is gone: the page sent again is shown the case it opened, not
    a 404; someone else sending that token, or the page sent without it, is still a 404."""
    client = web(world.lead_responder)
    draft_id = _walk_to_check(client)
    url = f"/cases/intake/{draft_id}/check/"
    token = page_token(client.get(url).content.decode())
    first = client.post(url, {"sending_token": token})
    again = client.post(url, {"sending_token": token})
    assert first.status_code == again.status_code == 302 and again["Location"] == first["Location"]
    assert Case.objects.count() == 1
    assert client.post(url).status_code == 404
    assert web(world.lead_supervisor).post(url, {"sending_token": token}).status_code == 404


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's; SQLite serializes writes")
def test_open_the_case_sent_twice_at_once_opens_it_once(transactional_db, world, web, commune, monkeypatch):
    """A double tap on "Open the case" on a slow connection: the first is held inside case_open (the case
    number's row lock, held here); the second waits for it and is shown the case it opened."""
    first_client, second_client = web(world.lead_responder), web(world.lead_responder)
    draft_id = _walk_to_check(first_client)
    url = f"/cases/intake/{draft_id}/check/"
    token = page_token(first_client.get(url).content.decode())
    sequence, _created = CaseNumberSequence.objects.get_or_create(province=world.police.province,
                                                                  year=timezone.localdate().year)
    first, second = two_sendings_at_once(
        lambda: CaseNumberSequence.objects.select_for_update().get(pk=sequence.pk),
        lambda: first_client.post(url, {"sending_token": token}),
        lambda: second_client.post(url, {"sending_token": token}), monkeypatch)
    case = Case.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/cases/{case.pk}/"
    assert not IntakeDraft.objects.exists()
