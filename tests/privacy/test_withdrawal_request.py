"""A data-subject request to withdraw consent (W9 of the withdrawn-consent audit): granting it withdraws the
consents the lead's supervisor chooses, in the decision's transaction, through the case page's own service
(cases.services.consent_withdraw), so the agency she withdrew them from loses what they shared at once.
Before, the request was granted and completed while nothing was withdrawn: the hospital still read her
medical data for as long as nobody also withdrew the record on the case page.

Synthetic data only.
"""

import re

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from cases.models import CaseEvent, Consent
from cases.selectors import case_get_for_user
from cases.services import consent_withdraw
from config.exceptions import NotFound
from privacy.models import DataSubjectRequest, RequestStatus
from privacy.services import privacy_request_decide, privacy_request_record
from tests.cases.conftest import referral_accepted
from tests.cases.services_helpers import consent_record_through_edge
from tests.support.pages import form_tokens

from .conftest import open_case

pytestmark = pytest.mark.django_db

REASON = "Withdrawn at her request, recorded by the lead agency."


def _request(world, case, kind="withdraw_consent"):
    return privacy_request_record(access=case_get_for_user(user=world.lead_responder, case_id=case.pk),
                                  actor=world.lead_responder,
                                  data={"kind": kind, "requester": "survivor", "details": "Chị rút lại đồng ý."})


def _consent(world, case, **data):
    return consent_record_through_edge(
        access=case_get_for_user(user=world.lead_responder, case_id=case.pk), actor=world.lead_responder,
        data={"purpose": "Hỗ trợ", "given_by": "survivor", "refused_categories": [], **data})


def _in_force(case) -> set[int]:
    return set(Consent.objects.in_force().filter(case=case).values_list("pk", flat=True))


def _unchanged(dsr, case, in_force: set[int], revokes: int) -> None:
    """The refused decision wrote nothing: the request is undecided, every consent still in force."""
    assert DataSubjectRequest.objects.get(pk=dsr.pk).status == RequestStatus.RECEIVED
    assert _in_force(case) == in_force
    assert AuditEvent.objects.filter(case_id=case.pk, action="revoke").count() == revokes


def test_a_granted_withdrawal_of_consent_request_takes_the_case_from_the_agency(world, shared_case, api):
    """The survivor asks, as a data-subject request, to withdraw her consent to the hospital; the lead's
    supervisor grants it choosing that consent. The hospital loses the case at once (its only consent), on
    the case read and on the API; the consent records a fixed reason pointing at the request; the case's
    timeline and audit trail have the withdrawal as the case page writes it; the request's outcome and its
    audit event name the consent, with no typed text."""
    case, consent = shared_case.case, shared_case.consent
    assert case_get_for_user(user=world.receiving_responder, case_id=case.pk).sees("medical")
    dsr = _request(world, case)
    privacy_request_decide(user=world.lead_supervisor, request_id=dsr.pk,
                           data={"decision": "grant", "consent_ids": [consent.pk]})
    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.COMPLETED
    with pytest.raises(NotFound):
        case_get_for_user(user=world.receiving_responder, case_id=case.pk)
    assert api(world.receiving_responder).get(f"/api/cases/{case.pk}/").status_code == 404

    consent.refresh_from_db()
    assert consent.withdrawn_by == world.lead_supervisor
    assert consent.withdrawal_reason == REASON
    assert CaseEvent.objects.filter(case=case, type="consent_withdrawn").count() == 1
    revoke = AuditEvent.objects.get(case_id=case.pk, action="revoke")
    assert (revoke.target, revoke.actor, revoke.agency_id) == (f"consent:{consent.pk}", world.lead_supervisor,
                                                               world.police.pk)
    decided = AuditEvent.objects.get(target=f"dsr:{dsr.pk}", action="change")
    assert decided.details["consents_withdrawn"] == [consent.pk]
    assert dsr.outcome == (f"Consent withdrawn; what it shared ended at once: no. {consent.pk}, "
                           f"{world.health.name} (Medical).")


def test_a_partial_choice_leaves_the_other_consents_in_force(world, time_limits):
    """Two consents reach the hospital, referred the case for medical and psychosocial data: its own
    (medical) and one to the whole health sector (psychosocial); a third goes to the school. Withdrawing
    only the medical one hides medical data from the hospital at once, which keeps the case and its
    psychosocial notes; the others stay in force."""
    case = open_case(world)
    medical = _consent(world, case, receiving_agency=world.health.pk, granted_categories=["medical"])
    sector = _consent(world, case, receiving_sector="health", granted_categories=["psychosocial"])
    school = _consent(world, case, receiving_agency=world.school.pk, granted_categories=["education"])
    referral_accepted(world, case, to=world.health, categories=["medical", "psychosocial"])
    assert case_get_for_user(user=world.receiving_responder, case_id=case.pk).sees("medical")
    dsr = _request(world, case)
    privacy_request_decide(user=world.lead_supervisor, request_id=dsr.pk,
                           data={"decision": "grant", "consent_ids": [medical.pk]})
    assert _in_force(case) == {sector.pk, school.pk}
    hospital = case_get_for_user(user=world.receiving_responder, case_id=case.pk)
    assert hospital.sees("psychosocial") and not hospital.sees("medical")
    assert AuditEvent.objects.get(target=f"dsr:{dsr.pk}", action="change").details["consents_withdrawn"] == [
        medical.pk]


def test_several_consents_at_once_and_the_outcome_names_each(world, shared_case, api):
    case, medical = shared_case.case, shared_case.consent
    sector = _consent(world, case, receiving_sector="health", granted_categories=["contact"])
    dsr = _request(world, case)
    answer = api(world.lead_supervisor).post(f"/api/privacy/requests/{dsr.pk}/decide/", {
        "decision": "grant", "consent_ids": [sector.pk, medical.pk, sector.pk]}, format="json",
        HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "completed"
    assert _in_force(case) == set()
    outcome = answer.json()["outcome"]
    assert f"no. {medical.pk}, {world.health.name} (Medical)" in outcome
    assert f"no. {sector.pk}, Every agency of the sector Health (Contact and address)" in outcome
    assert Consent.objects.get(pk=sector.pk).withdrawal_reason == REASON


@pytest.mark.parametrize("bad", ["other_case", "withdrawn", "refusal_only", "abc", 2**63, 2**62, 0, -1, True])
def test_a_bad_consent_id_is_refused_on_its_field_and_nothing_changes(world, shared_case, api, bad):
    """Another case's consent, one already withdrawn, a record that only refuses (withdrawing it would share
    more, not less), a word, numbers no consent has: 400 on consent_ids, the request undecided, every consent
    still in force, nothing revoked."""
    case, medical = shared_case.case, shared_case.consent
    other_case = open_case(world)
    ids = {
        "other_case": _consent(world, other_case, receiving_agency=world.health.pk, granted_categories=["medical"]).pk,
        "withdrawn": _consent(world, case, receiving_agency=world.school.pk, granted_categories=["education"]).pk,
        "refusal_only": _consent(world, case, receiving_agency=world.school.pk, granted_categories=[],
                                 refused_categories=["identity"]).pk,
    }
    consent_withdraw(access=case_get_for_user(user=world.lead_responder, case_id=case.pk),
                     actor=world.lead_responder, consent_id=ids["withdrawn"], reason="")
    dsr = _request(world, case)
    in_force, revokes = _in_force(case), AuditEvent.objects.filter(case_id=case.pk, action="revoke").count()
    answer = api(world.lead_supervisor).post(f"/api/privacy/requests/{dsr.pk}/decide/", {
        "decision": "grant", "consent_ids": [medical.pk, ids.get(bad, bad)]}, format="json",
        HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400, answer.content
    assert [key for key in answer.json() if key.startswith("consent_ids")], answer.json()
    _unchanged(dsr, case, in_force, revokes)
    assert case_get_for_user(user=world.receiving_responder, case_id=case.pk).sees("medical")


def test_a_grant_chooses_at_least_one_consent_in_force(world, shared_case, api):
    case = shared_case.case
    dsr = _request(world, case)
    in_force = _in_force(case)
    client = api(world.lead_supervisor)
    for body in ({"decision": "grant"}, {"decision": "grant", "consent_ids": []}, {"decision": "grant",
                                                                                   "consent_ids": "12"}):
        answer = client.post(f"/api/privacy/requests/{dsr.pk}/decide/", body, format="json",
                             HTTP_ACCEPT_LANGUAGE="en")
        assert answer.status_code == 400 and "consent_ids" in answer.json(), answer.content
    _unchanged(dsr, case, in_force, 0)


def test_a_typed_outcome_is_refused_when_granting_a_withdrawal(world, shared_case, api):
    """The outcome of a granted withdrawal is the fixed sentence naming the consents: no free text."""
    case = shared_case.case
    dsr = _request(world, case)
    answer = api(world.lead_supervisor).post(f"/api/privacy/requests/{dsr.pk}/decide/", {
        "decision": "grant", "outcome": "Đã rút theo yêu cầu của chị Hoa", "consent_ids": [shared_case.consent.pk]},
        format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400 and "granting a withdrawal of consent" in answer.json()["outcome"][0]
    _unchanged(dsr, case, {shared_case.consent.pk}, 0)


def test_when_no_consent_is_in_force_the_grant_needs_none(world, time_limits):
    """Nothing shared: the grant chooses nothing and its outcome says so; a chosen id is refused."""
    case = open_case(world)
    dsr = _request(world, case)
    with pytest.raises(ValidationError) as error:
        privacy_request_decide(user=world.lead_supervisor, request_id=dsr.pk,
                               data={"decision": "grant", "consent_ids": [1]})
    assert "consent_ids" in error.value.message_dict
    privacy_request_decide(user=world.lead_supervisor, request_id=dsr.pk, data={"decision": "grant"})
    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.COMPLETED
    assert dsr.outcome == "No consent of hers that shares anything was in force: there was nothing to withdraw."
    assert AuditEvent.objects.get(target=f"dsr:{dsr.pk}", action="change").details["consents_withdrawn"] == []


@pytest.mark.parametrize("kind", ["correction", "objection", "restriction", "access", "erasure"])
def test_other_kinds_and_a_refusal_take_no_consents(world, shared_case, api, kind):
    case, consent = shared_case.case, shared_case.consent
    client = api(world.lead_supervisor)
    typed = {} if kind in ("access", "erasure") else {"outcome": "Đã làm"}
    for dsr, body in (
        (_request(world, case, kind), {"decision": "grant", **typed, "consent_ids": [consent.pk]}),
        (_request(world, case), {"decision": "refuse", "refusal_ground": "not_verified", "outcome": "Chưa xác minh",
                                 "consent_ids": [consent.pk]}),
    ):
        answer = client.post(f"/api/privacy/requests/{dsr.pk}/decide/", body, format="json",
                             HTTP_ACCEPT_LANGUAGE="en")
        assert answer.status_code == 400 and "consent_ids" in answer.json(), answer.content
        _unchanged(dsr, case, {consent.pk}, 0)


@pytest.mark.parametrize("who", ["receiving_supervisor", "outsider_supervisor", "lead_responder", "analyst",
                                 "anonymous"])
def test_only_the_lead_supervisor_grants_it(world, shared_case, api, web, who):
    """Another agency's supervisor (even the hospital's, on the case), the lead's responder, an analyst,
    nobody signed in: refused on the API and the page, nothing withdrawn."""
    case, consent = shared_case.case, shared_case.consent
    dsr = _request(world, case)
    user = None if who == "anonymous" else getattr(world, who)
    expected = {"lead_responder": (403,), "anonymous": (401, 403)}.get(who, (404,))
    answer = api(user).post(f"/api/privacy/requests/{dsr.pk}/decide/",
                            {"decision": "grant", "consent_ids": [consent.pk]}, format="json")
    assert answer.status_code in expected
    page = web(user).post(f"/privacy/requests/{dsr.pk}/decide/",
                          {"decision": "grant", "consent_ids": [str(consent.pk)]})
    assert page.status_code in ((302,) if who == "anonymous" else expected)
    if who == "anonymous":
        assert page["Location"].startswith("/login/")
    _unchanged(dsr, case, {consent.pk}, 0)


CHECKBOX = re.compile(r'<input type="checkbox" name="consent_ids" value="(\d+)"([^>]*)>')


def _checkboxes(page: str) -> dict[int, bool]:
    return {int(value): "checked" in rest for value, rest in CHECKBOX.findall(page)}


def test_the_page_lists_the_consents_in_force_only_on_a_withdrawal_request(world, shared_case, web):
    case, medical = shared_case.case, shared_case.consent
    withdrawn = _consent(world, case, receiving_agency=world.school.pk, granted_categories=["education"])
    consent_withdraw(access=case_get_for_user(user=world.lead_responder, case_id=case.pk),
                     actor=world.lead_responder, consent_id=withdrawn.pk, reason="")
    sector = _consent(world, case, receiving_sector="health", granted_categories=["contact"])
    client = web(world.lead_supervisor)
    page = client.get(f"/privacy/requests/{_request(world, case).pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert _checkboxes(page) == {sector.pk: False, medical.pk: False}
    assert f"{world.health.name} — shares Medical — given on " in page
    assert "Every agency of the sector Health — shares Contact and address — given on " in page
    assert "Leave the outcome empty when granting a withdrawal of consent" in page

    for kind in ("objection", "access"):
        other = client.get(f"/privacy/requests/{_request(world, case, kind).pk}/", HTTP_ACCEPT_LANGUAGE="en")
        assert other.status_code == 200 and 'name="consent_ids"' not in other.content.decode()


def test_the_page_grants_it_and_its_refused_form_keeps_what_was_chosen(world, shared_case, web):
    case, medical = shared_case.case, shared_case.consent
    sector = _consent(world, case, receiving_sector="health", granted_categories=["contact"])
    dsr = _request(world, case)
    client = web(world.lead_supervisor)
    page, decide = f"/privacy/requests/{dsr.pk}/", f"/privacy/requests/{dsr.pk}/decide/"
    token = form_tokens(client.get(page).content.decode())[decide]

    typed = client.post(decide, {"decision": "grant", "outcome": "Đã rút", "consent_ids": [str(medical.pk)],
                                 "sending_token": token}, HTTP_ACCEPT_LANGUAGE="en")
    assert typed.status_code == 400
    assert _checkboxes(typed.content.decode()) == {sector.pk: False, medical.pk: True}
    assert re.search(r'class="field has-error" data-field="outcome"', typed.content.decode())
    other = _consent(world, open_case(world), receiving_agency=world.health.pk, granted_categories=["medical"])
    foreign = client.post(decide, {"decision": "grant", "consent_ids": [str(sector.pk), str(other.pk)],
                                   "sending_token": token}, HTTP_ACCEPT_LANGUAGE="en")
    assert foreign.status_code == 400
    assert re.search(r'class="field has-error[^"]*" data-field="consent_ids"', foreign.content.decode())
    assert _checkboxes(foreign.content.decode()) == {sector.pk: True, medical.pk: False}
    _unchanged(dsr, case, {medical.pk, sector.pk}, 0)

    granted = client.post(decide, {"decision": "grant", "consent_ids": [str(medical.pk)], "sending_token": token},
                          HTTP_ACCEPT_LANGUAGE="en")
    assert granted.status_code == 302
    assert _in_force(case) == {sector.pk}
    with pytest.raises(NotFound):  # the sector's consent shares nothing its referral asked for
        case_get_for_user(user=world.receiving_responder, case_id=case.pk)
    shown = client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"no. {medical.pk}, {world.health.name} (Medical)" in shown and 'name="consent_ids"' not in shown
