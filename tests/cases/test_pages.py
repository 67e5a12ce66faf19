"""Responder pages: my cases, the case with its timeline, open a case, log an action, record and
withdraw consent, change status. Who may open which page is in test_permission_matrix.py."""

import datetime
import re

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from agencies.services import membership_add
from audit.models import AuditEvent
from cases.models import Action, Case, Consent
from cases.selectors import case_get_for_user
from cases.services import case_change_status
from tests.cases.conftest import case_build, referral_accepted


def _open_form(**overrides) -> dict:
    today = timezone.localdate()
    data = {
        "full_name": "Phạm Thị Thu", "sex": "female", "birth_year": "1999", "disability": "none",
        "ethnicity": "Tày", "phone": "0901 234 567", "address": "Ngõ 5 Kim Mã",
        "occurred_on": (today - datetime.timedelta(days=1)).isoformat(), "reported_on": today.isoformat(),
        "province": "01", "answer_penetration": "no", "answer_sexual_contact": "no",
        "answer_physical_assault": "no", "answer_forced_marriage": "no", "answer_denial_of_resources": "no",
        "answer_psychological_abuse": "yes", "tech_forms": ["cyberstalking", "doxxing"],
        "perpetrator_relationship": "former_partner", "risk_level": "high", "statistics_consent": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _field_errors(html: str, field: str) -> str:
    """The text of the field's wrapper, where its inline errors are shown."""
    match = re.search(rf'<div class="field[^"]*has-error[^"]*" data-field="{field}">(.*?)</div>\s*(?=<div class="field|'
                      rf'</fieldset>|</details>|<p>|<div class="two-up">)', html, re.S)
    assert match, f"no inline error for {field}"
    return match.group(1)


# --- My cases ------------------------------------------------------------------------------------


def test_my_cases_lists_newest_first_with_number_status_risk_and_time(world, web):
    older = case_build(world, risk_level="low")
    newer = case_build(world, risk_level="severe")
    html = web(world.lead_responder).get("/cases/").content.decode()
    assert html.index(newer.number) < html.index(older.number)
    assert "status-open" in html and "risk-severe" in html and "risk-low" in html


def test_my_cases_filters_and_pages(world, web):
    cases = [case_build(world) for _ in range(22)]
    case_change_status(access=case_get_for_user(user=world.lead_responder, case_id=cases[0].pk),
                       actor=world.lead_responder, status="active")
    client = web(world.lead_responder)

    first = client.get("/cases/").content.decode()
    second = client.get("/cases/?page=2").content.decode()
    shown = lambda html: {c.number for c in cases if c.number in html}  # noqa: E731
    assert len(shown(first)) == 20 and len(shown(second)) == 2 and not shown(first) & shown(second)
    assert 'rel="next"' in first

    active = client.get("/cases/?status=active").content.decode()
    assert shown(active) == {cases[0].number}
    by_number = client.get(f"/cases/?number={cases[5].number}").content.decode()
    assert shown(by_number) == {cases[5].number}


def test_my_cases_with_a_bad_filter_shows_the_error_and_every_case(world, web):
    case = case_build(world)
    response = web(world.lead_responder).get("/cases/?status=lost")
    assert response.status_code == 200
    html = response.content.decode()
    assert "errorlist" in html and case.number in html


def test_my_cases_filter_fields_are_the_forms_in_each_language_and_keep_what_was_chosen(world, web):
    """An unbound filter form's fields are rendered once per language (cases.views.case_list_filter_fields):
    what each language's page shows is that form's rendering; a filtered page shows its own."""
    from django.template.loader import render_to_string
    from django.utils import translation

    from cases.forms import CaseFilterForm

    client = web(world.lead_responder)
    for language, label in (("vi", "Trạng thái"), ("en", "Status"), ("vi", "Trạng thái")):
        with translation.override(language):
            fields = render_to_string("cases/_case_list_filters.html", {"form": CaseFilterForm()})
        html = client.get("/cases/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert f">{label}:</label>" in fields
        assert fields in html
    filtered = client.get("/cases/?status=active&number=X-1").content.decode()
    assert '<option value="active" selected>' in filtered and 'value="X-1"' in filtered
    assert '<option value="active" selected>' not in client.get("/cases/").content.decode()


def test_each_list_page_writes_one_list_event_naming_the_cases_shown(world, web):
    cases = [case_build(world) for _ in range(3)]
    client = web(world.lead_responder)
    before = AuditEvent.objects.filter(action="list").count()
    client.get("/cases/")
    assert AuditEvent.objects.filter(action="list").count() == before + 1
    event = AuditEvent.objects.filter(action="list").latest("seq")
    assert sorted(event.details["case_ids"]) == sorted(c.pk for c in cases)


def test_the_responder_home_shows_my_cases(world, web):
    client = web(world.lead_responder)
    assert "Chưa có hồ sơ nào" in client.get("/work/").content.decode()
    case = case_build(world)
    html = client.get("/work/").content.decode()
    # "Open a case" starts the guided intake (tests/cases/test_intake.py).
    assert case.number in html and f'href="/cases/{case.pk}/"' in html and 'href="/cases/intake/"' in html


# --- The case page -------------------------------------------------------------------------------


def test_case_page_shows_survivor_incident_consents_and_timeline(world, shared_case, web):
    html = web(world.lead_responder).get(f"/cases/{shared_case.case.pk}/").content.decode()
    assert shared_case.case.number in html and "Nguyễn Thị Hoa" in html
    assert 'data-testid="timeline"' in html and "ACTION-TEXT-medical" in html
    assert world.health.name in html and f"/consents/{shared_case.consent.pk}/withdraw/" in html
    assert 'data-testid="action-type-medical_care"' in html


def test_case_page_for_a_receiving_agency_says_what_is_not_shared(world, shared_case, web):
    html = web(world.receiving_responder).get(f"/cases/{shared_case.case.pk}/").content.decode()
    assert 'data-testid="hidden-categories"' in html
    assert "/withdraw/" not in html and "/consents/new/" not in html and "status-closed" not in html
    assert 'data-testid="action-types"' in html  # health may log actions (medical)


def test_each_case_page_read_writes_one_view_event(world, shared_case, web):
    client = web(world.receiving_responder)
    before = AuditEvent.objects.filter(action="view", case_id=shared_case.case.pk).count()
    client.get(f"/cases/{shared_case.case.pk}/")
    client.get(f"/cases/{shared_case.case.pk}/")
    assert AuditEvent.objects.filter(action="view", case_id=shared_case.case.pk).count() == before + 2


@pytest.mark.django_db(transaction=True)
def test_the_view_event_survives_a_page_that_fails_after_the_read(world, shared_case, web, monkeypatch):
    from cases import views

    def explode(**kwargs):
        raise RuntimeError("timeline broke after the read")

    monkeypatch.setattr(views, "case_timeline", explode)
    client = web(world.lead_responder)
    client.raise_request_exception = False
    before = AuditEvent.objects.filter(action="view", case_id=shared_case.case.pk).count()

    assert client.get(f"/cases/{shared_case.case.pk}/").status_code == 500
    assert AuditEvent.objects.filter(action="view", case_id=shared_case.case.pk).count() == before + 1


def test_pages_are_vietnamese_by_default_and_english_on_request(world, shared_case, web):
    client = web(world.lead_responder)
    vietnamese = client.get(f"/cases/{shared_case.case.pk}/").content.decode()
    english = client.get(f"/cases/{shared_case.case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="vi">' in vietnamese and "Đăng xuất" in vietnamese
    assert '<html lang="en">' in english and "Sign out" in english and "Timeline" in english


# --- Open a case ---------------------------------------------------------------------------------


def test_an_agency_admin_of_an_agency_with_responders_is_not_offered_the_open_form(world, web):
    """The opening roles are the user's own: that other members of the agency are responders gives an
    agency admin nothing (both conditions on one membership, not on two joins)."""
    client = web(world.lead_admin)
    assert client.get("/cases/new/").status_code == 403
    assert 'data-testid="open-case"' not in client.get("/cases/").content.decode()
    assert 'data-testid="open-case"' in web(world.lead_responder).get("/cases/").content.decode()


def test_open_a_case_from_one_form(world, web):
    client = web(world.lead_responder)
    form = client.get("/cases/new/").content.decode()
    assert form.count('name="answer_') == 12  # six questions, yes and no
    assert 'name="tech_forms"' in form and 'name="consent_granted_categories"' in form

    response = client.post("/cases/new/", _open_form(
        consent_receiving_agency=str(world.health.pk), consent_granted_categories=["medical"],
        consent_purpose="Khám sức khỏe", consent_given_by="survivor",
    ))

    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert any(case.number in message for message in _messages(response))
    incident = case.incidents.get()
    assert incident.gbv_type == "psychological_abuse"
    assert sorted(incident.tech_form_rows.values_list("form", flat=True)) == ["cyberstalking", "doxxing"]
    assert case.survivor.full_name == "Phạm Thị Thu" and case.risk_level == "high"
    assert case.consents.get().receiving_agency == world.health
    referral_accepted(world, case, to=world.health, categories=["medical", "contact"])
    assert case_get_for_user(user=world.receiving_responder, case_id=case.pk).categories == {"medical"}


def test_open_without_consent_shares_nothing(world, web):
    response = web(world.lead_responder).post("/cases/new/", _open_form())
    assert response.status_code == 302
    assert Consent.objects.count() == 0
    assert Case.objects.get().consents.count() == 0


@pytest.mark.parametrize(("overrides", "field"), [
    ({"age": "30"}, "age"),  # with a birth year too
    ({"risk_level": None}, "risk_level"),
    ({"answer_penetration": None}, "answer_penetration"),
    ({"phone": "gọi tôi"}, "phone"),
    (lambda: {"occurred_on": (timezone.localdate() + datetime.timedelta(days=3)).isoformat()}, "occurred_on"),
    ({"birth_year": "năm ngoái"}, "birth_year"),
    ({"consent_purpose": "Khám", "consent_given_by": "survivor"}, "consent_receiving_agency"),
    ({"consent_receiving_sector": "health", "consent_granted_categories": ["medical"], "consent_purpose": "Khám"},
     "consent_given_by"),
])
def test_open_with_bad_input_shows_the_error_next_to_the_field_and_saves_nothing(world, web, overrides, field):
    overrides = overrides() if callable(overrides) else overrides  # a row that reads the clock reads it now
    response = web(world.lead_responder).post("/cases/new/", _open_form(**overrides))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="form-errors"' in html
    assert "errorlist" in _field_errors(html, field)
    assert Case.objects.count() == 0
    assert "Phạm Thị Thu" in html  # what was typed stays in the form


def test_someone_in_two_agencies_chooses_which_opens_the_case(world, web):
    membership_add(user=world.lead_responder, agency=world.health, role="responder")
    client = web(world.lead_responder)
    assert 'name="agency"' in client.get("/cases/new/").content.decode()
    response = client.post("/cases/new/", _open_form(agency=str(world.health.pk)))
    assert response.status_code == 302
    assert Case.objects.get().lead_agency == world.health


# --- Log an action -------------------------------------------------------------------------------


def test_a_type_button_preselects_its_category(world, shared_case, web):
    html = web(world.lead_responder).get(f"/cases/{shared_case.case.pk}/actions/new/?type=forensic_exam")
    html = html.content.decode()
    assert re.search(r'<option value="medical" selected>', html)
    assert re.search(r'value="forensic_exam"[^>]*checked', html)


def test_no_category_is_preselected_when_the_usual_one_is_not_shared(world, shared_case, web):
    """A shelter placement is contact data; health does not see contact data, so it must choose."""
    html = web(world.receiving_responder).get(f"/cases/{shared_case.case.pk}/actions/new/?type=shelter_placement")
    html = html.content.decode()
    select = html.split('id="id_category"')[1].split("</select>")[0]
    assert re.findall(r'<option value="([^"]*)" selected>', select) == [""]
    assert '<option value="contact"' not in html and '<option value="medical"' in html


def test_log_an_action_in_a_few_taps(world, shared_case, web):
    client = web(world.receiving_responder)
    response = client.post(f"/cases/{shared_case.case.pk}/actions/new/?type=medical_care",
                           {"type": "medical_care", "category": "medical", "text": "Đã tiêm phòng uốn ván."})
    assert response.status_code == 302 and response["Location"] == f"/cases/{shared_case.case.pk}/"
    action = Action.objects.latest("id")
    assert (action.type, action.category, action.agency) == ("medical_care", "medical", world.health)
    assert "Đã tiêm phòng uốn ván." in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(("data", "field"), [
    ({"type": "note", "category": "police_legal", "text": "x"}, "category"),  # not shared with health
    ({"type": "note", "category": "", "text": "x"}, "category"),
    ({"type": "juggling", "category": "general"}, "type"),
    ({"type": "note", "category": "general", "text": "x" * 10001}, "text"),
])
def test_log_an_action_with_bad_input_shows_the_error(world, shared_case, web, data, field):
    actions = Action.objects.count()
    response = web(world.receiving_responder).post(f"/cases/{shared_case.case.pk}/actions/new/", data)
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert Action.objects.count() == actions


# --- Consent -------------------------------------------------------------------------------------


def test_record_consent_from_the_page(world, shared_case, web):
    response = web(world.lead_responder).post(f"/cases/{shared_case.case.pk}/consents/new/", {
        "receiving_agency": str(world.school.pk), "granted_categories": ["education", "psychosocial"],
        "purpose": "Hỗ trợ ở trường", "given_by": "survivor",
        "expires_at": (timezone.localtime() + datetime.timedelta(days=90)).strftime("%Y-%m-%dT%H:%M"),
    })
    assert response.status_code == 302
    referral_accepted(world, shared_case.case, to=world.school, categories=["education", "psychosocial", "medical"])
    access = case_get_for_user(user=world.outsider_responder, case_id=shared_case.case.pk)
    assert access.categories == {"education", "psychosocial"}
    assert Consent.objects.latest("id").expires_at is not None


def test_record_consent_for_a_child_follows_the_child_rules(world, web):
    client = web(world.lead_responder)
    client.post("/cases/new/", _open_form(birth_year=None, age="10"))
    case = Case.objects.get()
    response = client.post(f"/cases/{case.pk}/consents/new/", {
        "receiving_agency": str(world.health.pk), "granted_categories": ["medical"], "purpose": "Khám",
        "given_by": "survivor",
    })
    assert response.status_code == 200
    assert "errorlist" in _field_errors(response.content.decode(), "given_by")
    assert Consent.objects.count() == 0


def test_withdraw_consent_asks_first_then_takes_effect_at_once(world, shared_case, web):
    url = f"/cases/{shared_case.case.pk}/consents/{shared_case.consent.pk}/withdraw/"
    lead, health = web(world.lead_responder), web(world.receiving_responder)
    assert health.get(f"/cases/{shared_case.case.pk}/").status_code == 200

    confirm = lead.get(url).content.decode()
    assert world.health.name in confirm and 'data-testid="confirm-withdraw"' in confirm
    shared_case.consent.refresh_from_db()
    assert shared_case.consent.withdrawn_at is None  # looking at the question changes nothing

    response = lead.post(url, {"reason": ""})
    assert response.status_code == 302
    assert health.get(f"/cases/{shared_case.case.pk}/").status_code == 404

    again = lead.post(url, {"reason": ""})
    assert again.status_code == 200 and "errorlist" in again.content.decode()


def test_withdrawing_a_consent_of_another_case_is_not_found(world, shared_case, web):
    other = case_build(world)
    response = web(world.lead_responder).get(f"/cases/{other.pk}/consents/{shared_case.consent.pk}/withdraw/")
    assert response.status_code == 404


# --- Status --------------------------------------------------------------------------------------


def test_status_buttons_move_the_case_along(world, shared_case, web):
    client = web(world.lead_responder)
    # Closing goes through its confirmation page, with a reason (tests/cases/test_case_close.py).
    response = client.post(f"/cases/{shared_case.case.pk}/close/", {"close_reason": "Đã an toàn."})
    assert response.status_code == 302
    shared_case.case.refresh_from_db()
    assert shared_case.case.status == "closed"
    html = client.get(f"/cases/{shared_case.case.pk}/").content.decode()
    assert 'data-testid="status-reopened"' in html and 'data-testid="status-active"' not in html


@pytest.mark.parametrize("status", ["reopened", "nonsense", ""])
def test_a_status_move_that_is_not_allowed_is_explained(world, shared_case, web, status):
    response = web(world.lead_responder).post(f"/cases/{shared_case.case.pk}/status/", {"status": status})
    assert response.status_code == 302
    assert any(m.level_tag == "error" for m in get_messages(response.wsgi_request))
    shared_case.case.refresh_from_db()
    assert shared_case.case.status == "open"


def test_pages_refuse_methods_they_do_not_serve(world, shared_case, web):
    client = web(world.lead_responder)
    assert client.get(f"/cases/{shared_case.case.pk}/status/").status_code == 405
    assert client.delete("/cases/new/").status_code == 405
