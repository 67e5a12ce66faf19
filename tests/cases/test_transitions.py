"""Every (state, action) pair of every state machine (cases.transitions): an action the table allows
succeeds through its service, any other is refused with the domain error (TransitionNotAllowed, a
ValidationError) and never a 500; the pages and the API offer exactly what the table allows. The
expected pairs are written out here as well, so that a change to a table is a change to this test.

Every test starts from the same world and case: they are written once for the module (inside
module_transaction, as Django's setUpTestData) and each test gets its own copy; what a test writes is
rolled back after it."""

import copy
import datetime
import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import CASE_STATUS_MACHINE, CASE_TRANSITIONS, Case, Consent
from cases.services import case_change_status
from cases.transitions import TransitionNotAllowed
from deadlines.selectors import CASE_DEADLINE_MACHINE, case_deadline_actions
from deadlines.services import case_deadline_done, case_deadline_set
from handoffs.models import HANDOFF_MACHINE, Handoff
from handoffs.selectors import handoff_actions_for, handoff_get_for_user
from handoffs.services import handoff_accept, handoff_complete, handoff_decline, handoff_withdraw
from notifications.models import Deadline
from privacy.models import REQUEST_MACHINE, AccessPackage, DataSubjectRequest
from privacy.selectors import privacy_request_actions
from privacy.services import (
    PackageGone,
    access_package_download,
    privacy_request_acknowledge,
    privacy_request_decide,
    privacy_request_record,
)
from takedowns.selectors import TAKEDOWN_MACHINE, takedown_actions
from takedowns.services import takedown_outcome_record, takedown_request_record
from tests.cases.services_helpers import access_for, consent_data, handoff_send_through_edge, open_case, referral_data
from tests.conftest import World, world_in_bulk

pytestmark = pytest.mark.django_db


def test_the_tables_are_whole():
    for machine in (HANDOFF_MACHINE, CASE_STATUS_MACHINE, CASE_DEADLINE_MACHINE, TAKEDOWN_MACHINE, REQUEST_MACHINE):
        assert machine.actions and all(machine[a].sources for a in machine.actions)
        # Every state is reachable or a start, and every action leads somewhere known.
        assert set(machine.next_states()) == set(machine.states)
    # The old state -> next states maps are derived from the tables, not written again.
    assert {"open": {"active", "closed"}, "active": {"closed"}, "closed": {"reopened"},
                                "reopened": {"active", "closed"}} == CASE_TRANSITIONS


# --- Handoffs ------------------------------------------------------------------------------------

HANDOFF_ALLOWED = {
    ("referral", "sent"): {"accept", "decline", "withdraw"},
    ("referral", "accepted"): {"withdraw", "complete"},
    ("referral", "declined"): {"send_on"},
    ("transfer", "sent"): {"accept", "decline", "withdraw"},
    ("transfer", "declined"): {"send_on"},
}


@pytest.fixture(scope="module")
def _world_and_case_once(module_transaction, django_db_blocker) -> tuple[World, Case]:
    """The world and the police's case (consent: medical and psychosocial for the health agency), written
    once for the module: each of its 150-odd tests wrote them before (most of the module's time)."""
    with django_db_blocker.unblock():
        world = world_in_bulk()
        return world, open_case(world, consent=consent_data(world, granted_categories=["medical", "psychosocial"]))


@pytest.fixture
def _world_and_case(db, _world_and_case_once) -> tuple[World, Case]:
    """A copy of the module's world and case for one test (its own writes are rolled back after it)."""
    return copy.deepcopy(_world_and_case_once)


@pytest.fixture
def world(_world_and_case) -> World:
    return _world_and_case[0]


@pytest.fixture
def case(_world_and_case) -> Case:
    return _world_and_case[1]


def _handoff_in(world, case, kind: str, state: str) -> Handoff:
    handoff = handoff_send_through_edge(access=access_for(world.lead_responder, case, "manage_sharing"),
                                     actor=world.lead_responder, data=referral_data(world, kind=kind))
    receiver, sender = world.receiving_responder, world.lead_responder
    if state in ("accepted", "completed"):
        handoff_accept(user=receiver, handoff_id=handoff.pk)
    if state == "declined":
        handoff_decline(user=receiver, handoff_id=handoff.pk, reason="Không đủ nhân lực")
    if state == "withdrawn":
        handoff_withdraw(user=sender, handoff_id=handoff.pk, reason="Đã có nơi khác")
    if state == "completed":
        if kind == "transfer":
            pytest.skip("a transfer is never completed")
        handoff_complete(user=receiver, handoff_id=handoff.pk, outcome="Đã khám")
    handoff.refresh_from_db()
    assert handoff.status == state
    return handoff


def _handoff_do(world, case, handoff: Handoff, action: str):
    receiver, sender = world.receiving_responder, world.lead_responder
    if action == "accept":
        return handoff_accept(user=receiver, handoff_id=handoff.pk)
    if action == "decline":
        return handoff_decline(user=receiver, handoff_id=handoff.pk, reason="Không đủ nhân lực")
    if action == "withdraw":
        return handoff_withdraw(user=sender, handoff_id=handoff.pk, reason="Đã có nơi khác")
    if action == "complete":
        return handoff_complete(user=receiver, handoff_id=handoff.pk, outcome="Đã khám")
    assert action == "send_on"
    case.refresh_from_db()
    return handoff_send_through_edge(access=access_for(sender, case, "manage_sharing"), actor=sender,
                        data=referral_data(world, kind=handoff.kind, forwarded_from=handoff.pk))


@pytest.mark.parametrize(("kind", "state", "action"), list(itertools.product(
    ["referral", "transfer"], HANDOFF_MACHINE.states, HANDOFF_MACHINE.actions)))
def test_every_handoff_pair(world, case, kind, state, action):
    handoff = _handoff_in(world, case, kind, state)
    allowed = action in HANDOFF_ALLOWED.get((kind, state), set())
    assert HANDOFF_MACHINE.allows(action, handoff) == allowed
    side = HANDOFF_MACHINE[action].right
    viewer = world.receiving_responder if side == "receiver" else world.lead_responder
    # The handoff page's buttons and the API's `actions` are this one function.
    offered = handoff_actions_for(access=handoff_get_for_user(user=viewer, handoff_id=handoff.pk))
    assert (action in offered) == allowed
    if allowed:
        result = _handoff_do(world, case, handoff, action)
        if action == "send_on":
            assert result.forwarded_from_id == handoff.pk
        else:
            assert result.status in HANDOFF_MACHINE[action].targets
    else:
        status_before = handoff.status
        # Sending on is handoff_send's: a sender that no longer leads the case lacks the right (403).
        with pytest.raises((ValidationError, PermissionDenied) if action == "send_on" else ValidationError):
            _handoff_do(world, case, handoff, action)
        handoff.refresh_from_db()
        assert handoff.status == status_before


@pytest.mark.parametrize("state", ["sent", "accepted", "declined"])
def test_the_api_answers_409_for_a_state_that_does_not_allow_the_action(world, case, api, state):
    handoff = _handoff_in(world, case, "referral", state)
    client = api(world.receiving_responder)
    response = client.post(f"/api/handoffs/{handoff.pk}/accept/", {}, format="json")
    if state == "sent":
        assert response.status_code == 200 and response.json()["actions"] == ["complete"]
    else:
        assert response.status_code == 409 and "status" in response.json()


def test_one_open_handoff_per_agency_is_a_database_rule(world, case, api):
    first = _handoff_in(world, case, "referral", "sent")
    # Past the service's own check (a concurrent send): the database refuses.
    with pytest.raises(IntegrityError), transaction.atomic():
        Handoff.objects.create(case=case, kind="referral", from_agency=world.police, to_agency=world.health,
                               services=["medical_care"], urgency="urgent", sent_by=world.lead_responder,
                               due_at=timezone.now())
    # A declined handoff does not count: a new one to the same agency is fine once the first is over,
    # and a second open one is refused in words (400) before the database has to.
    handoff_decline(user=world.receiving_responder, handoff_id=first.pk, reason="Không đủ nhân lực")
    client = api(world.lead_responder)
    payload = referral_data(world, to_agency=world.health.pk)
    assert client.post(f"/api/cases/{case.pk}/handoffs/", payload, format="json").status_code == 201
    response = client.post(f"/api/cases/{case.pk}/handoffs/", payload, format="json")
    assert response.status_code == 400 and "to_agency" in response.json()


def test_a_lost_race_is_the_domain_error(world, case, monkeypatch):
    from handoffs import services as handoffs

    _handoff_in(world, case, "referral", "sent")
    # As if the other send committed between this one's check and its insert.
    monkeypatch.setattr(handoffs, "_send_rules_check", lambda values, **kw: {})
    with pytest.raises(TransitionNotAllowed) as error:
        handoff_send_through_edge(access=access_for(world.lead_responder, case, "manage_sharing"),
                                     actor=world.lead_responder, data=referral_data(world))
    assert "to_agency" in error.value.message_dict
    assert Handoff.objects.filter(case=case).count() == 1


# --- Case status ---------------------------------------------------------------------------------

CASE_ALLOWED = {"open": {"active", "closed"}, "active": {"closed"}, "closed": {"reopened"},
                "reopened": {"active", "closed"}}


def _case_in(world, case, state: str) -> Case:
    Case.objects.filter(pk=case.pk).update(status=state, closed_at=timezone.now() if state == "closed" else None)
    case.refresh_from_db()
    return case


@pytest.mark.parametrize(("state", "target"), list(itertools.product(CASE_STATUS_MACHINE.states,
                                                                       CASE_STATUS_MACHINE.states)))
def test_every_case_status_pair(world, case, state, target):
    _case_in(world, case, state)
    allowed = target in CASE_ALLOWED[state]
    lead = access_for(world.lead_responder, case)
    assert (target in lead.next_statuses()) == allowed
    reason = "Đã hỗ trợ xong" if target == "closed" else None
    if allowed:
        assert case_change_status(access=lead, actor=world.lead_responder, status=target,
                                  close_reason=reason).status == target
    else:
        with pytest.raises(ValidationError):
            case_change_status(access=lead, actor=world.lead_responder, status=target, close_reason=reason)
        case.refresh_from_db()
        assert case.status == state


def test_the_api_lists_the_next_statuses_of_the_viewers_rights_as_the_page(world, case, api):
    from handoffs.services import handoff_accept

    handoff = handoff_send_through_edge(access=access_for(world.lead_responder, case, "manage_sharing"),
                           actor=world.lead_responder, data=referral_data(world))
    handoff_accept(user=world.receiving_responder, handoff_id=handoff.pk)
    lead = api(world.lead_responder).get(f"/api/cases/{case.pk}/").json()
    assert lead["next_statuses"] == ["active", "closed"]
    # The receiving agency may not change the lead's case: the page offers nothing, nor does the API.
    receiver_access = access_for(world.receiving_responder, case)
    receiver = api(world.receiving_responder).get(f"/api/cases/{case.pk}/").json()
    assert receiver["next_statuses"] == receiver_access.next_statuses() == []
    response = api(world.receiving_responder).patch(f"/api/cases/{case.pk}/", {"status": "active"}, format="json")
    assert response.status_code == 403
    # And a status the state does not allow is a conflict, not a 500.
    response = api(world.lead_responder).patch(f"/api/cases/{case.pk}/", {"status": "reopened"}, format="json")
    assert response.status_code == 409 and "status" in response.json()


# --- Case deadlines ------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", CASE_DEADLINE_MACHINE.states)
def test_every_deadline_pair(world, case, api, stage):
    lead = access_for(world.lead_responder, case)
    deadline = case_deadline_set(access=lead, actor=world.lead_responder,
                                 data={"kind": "follow_up", "due_at": timezone.now() + datetime.timedelta(days=3)})
    closed = {"closed_at": timezone.now(), "closed_reason": "test", "next_fire_at": None} if stage == "closed" else {}
    Deadline.objects.filter(pk=deadline.pk).update(stage=stage, **closed)
    deadline.refresh_from_db()
    allowed = stage != "closed"
    assert case_deadline_actions(access=lead, deadline=deadline) == (["done"] if allowed else [])
    # The receiving agency's responder never gets the button of another agency's deadline.
    listed = api(world.lead_responder).get(f"/api/cases/{case.pk}/deadlines/").json()
    if allowed:
        assert [d["allowed_actions"] for d in listed if d["id"] == deadline.pk] == [["done"]]
        assert case_deadline_done(access=lead, actor=world.lead_responder, deadline_id=deadline.pk).stage == "closed"
    else:
        response = api(world.lead_responder).post(f"/api/cases/{case.pk}/deadlines/{deadline.pk}/done/", {},
                                                  format="json")
        assert response.status_code == 409 and "deadline" in response.json()


# --- Takedowns -----------------------------------------------------------------------------------

TAKEDOWN_ALLOWED = {
    "pending": {"removed", "refused", "no_response"},
    "removed": {"removed", "refused", "no_response", "pending"},
    "refused": {"removed", "refused", "no_response", "pending"},
    "no_response": {"removed", "refused", "no_response", "pending"},
}


@pytest.mark.parametrize(("state", "action"), list(itertools.product(TAKEDOWN_MACHINE.states,
                                                                       TAKEDOWN_MACHINE.actions)))
def test_every_takedown_pair(world, case, state, action):
    lead = access_for(world.lead_responder, case)
    takedown = takedown_request_record(access=lead, actor=world.lead_responder, data={
        "platform": "facebook", "content_reference": "https://facebook.com/p/123", "category": "general"})
    if state != "pending":
        takedown = takedown_outcome_record(access=lead, actor=world.lead_responder, takedown_id=takedown.pk,
                                           data={"outcome": state, "resolved_at": takedown.requested_at})
    allowed = action in TAKEDOWN_ALLOWED[state]
    assert (action in takedown_actions(access=lead, takedown=takedown)) == allowed
    if allowed:
        done = takedown_outcome_record(access=lead, actor=world.lead_responder, takedown_id=takedown.pk,
                                       data={"outcome": action})
        assert done.outcome == action
    else:
        with pytest.raises(ValidationError):
            takedown_outcome_record(access=lead, actor=world.lead_responder, takedown_id=takedown.pk,
                                    data={"outcome": action})


# --- Data-subject requests -----------------------------------------------------------------------

REQUEST_ALLOWED = {
    "received": {"acknowledge", "decide"},
    "acknowledged": {"decide"},
    "granted": {"download"},
}


def _request_in(world, case, state: str) -> DataSubjectRequest:
    dsr = privacy_request_record(access=access_for(world.lead_responder, case), actor=world.lead_responder,
                                 data={"kind": "access", "requester": "survivor"})
    if state != "received":
        privacy_request_acknowledge(user=world.lead_supervisor, request_id=dsr.pk)
    if state == "granted":
        privacy_request_decide(user=world.lead_supervisor, request_id=dsr.pk, data={"decision": "grant"})
        AccessPackage.objects.filter(request=dsr).update(status="ready", content="UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==")
    if state in ("completed", "refused"):
        fields = {"status": state, "completed_at": timezone.now()}
        if state == "refused":
            fields["refusal_ground"] = "not_verified"
        DataSubjectRequest.objects.filter(pk=dsr.pk).update(**fields)
    dsr = DataSubjectRequest.objects.select_related("case").get(pk=dsr.pk)
    assert dsr.status == state
    return dsr


def _request_do(world, dsr, action: str):
    if action == "acknowledge":
        return privacy_request_acknowledge(user=world.lead_supervisor, request_id=dsr.pk)
    if action == "decide":
        return privacy_request_decide(user=world.lead_supervisor, request_id=dsr.pk,
                                      data={"decision": "refuse", "refusal_ground": "not_verified",
                                            "outcome": "Chưa xác minh được"})
    return access_package_download(user=world.lead_supervisor, request_id=dsr.pk)


@pytest.mark.parametrize(("state", "action"), list(itertools.product(REQUEST_MACHINE.states,
                                                                       REQUEST_MACHINE.actions)))
def test_every_request_pair(world, time_limits, case, api, state, action):
    dsr = _request_in(world, case, state)
    allowed = action in REQUEST_ALLOWED.get(state, set())
    assert (action in privacy_request_actions(user=world.lead_supervisor, dsr=dsr)) == allowed
    # A responder of the lead agency reads the request but acts on nothing.
    assert privacy_request_actions(user=world.lead_responder, dsr=dsr) == []
    detail = api(world.lead_supervisor).get(f"/api/privacy/requests/{dsr.pk}/").json()
    assert (action in detail["allowed_actions"]) == allowed
    if allowed:
        _request_do(world, dsr, action)
        dsr.refresh_from_db()
        assert dsr.status in REQUEST_MACHINE[action].targets
    elif action == "download":
        with pytest.raises(PackageGone):
            _request_do(world, dsr, action)
    else:
        with pytest.raises(ValidationError):
            _request_do(world, dsr, action)
        response = api(world.lead_supervisor).post(f"/api/privacy/requests/{dsr.pk}/{action}/", {
            "decision": "grant"} if action == "decide" else {}, format="json")
        assert response.status_code == 409


def test_consent_in_force_is_one_query(world, case):
    consent = Consent.objects.get(case=case)
    assert list(Consent.objects.in_force().filter(case=case)) == [consent]
    assert consent.is_in_force()
    Consent.objects.filter(pk=consent.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    consent.refresh_from_db()
    assert not Consent.objects.in_force().filter(case=case).exists() and not consent.is_in_force()
    assert list(Consent.objects.covering(world.health).filter(case=case)) == [consent]
