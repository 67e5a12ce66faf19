"""Every (state, action) pair of the meeting machine (conferences.models.MEETING_MACHINE), the minutes
machine (MINUTES_MACHINE) and the plan item machine (PLAN_ITEM_MACHINE): an action the table allows
succeeds through its service, any other is refused with TransitionNotAllowed (409 on the API), and the
pages' buttons and the API's allowed_actions are what the table allows for the viewer. The
expected pairs are written out here as well, so that a change to the table is a change to this test."""

import datetime
import itertools

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from rest_framework.test import APIClient

from cases.transitions import TransitionNotAllowed
from conferences.models import MEETING_MACHINE, MINUTES_MACHINE, PLAN_ITEM_MACHINE, MeetingCase, MeetingMinutes
from conferences.services import (
    attendance_record,
    contribution_add,
    decision_record,
    meeting_cancel,
    meeting_case_add,
    meeting_hold,
    meeting_invite,
    minutes_correct,
    minutes_sign,
    plan_item_add,
    plan_item_finish,
)

from .conftest import access_of, meeting_build

# The meeting page's form (or button) of each action it offers there.
BUTTONS = {"hold": "hold-submit", "attendance": "attendance-submit", "contribute": "contribution-form",
           "plan_add": "plan-form", "decide": "decision-form", "sign": "sign-submit", "correct": "correct-submit"}
ALLOWED = {
    "scheduled": {"agenda_add", "invite", "cancel", "hold", "attendance", "contribute", "plan_add"},
    "held": {"attendance", "contribute", "plan_add", "decide"},
    "cancelled": set(),
}


@pytest.fixture
def met_in(world, shared_case):
    def build(state: str):
        met = meeting_build(world, shared_case.case, invite_health=False)
        chair = access_of(world.lead_supervisor, met.meeting)
        if state == "held":
            meeting_hold(access=chair, actor=world.lead_supervisor, held_on=timezone.localdate())
        if state == "cancelled":
            meeting_cancel(access=chair, actor=world.lead_supervisor, reason="Trùng lịch")
        met.meeting.refresh_from_db()
        assert met.meeting.status == state
        return met
    return build


def _do(world, met, action: str):
    chair, row = access_of(world.lead_supervisor, met.meeting), met.row
    if action == "agenda_add":
        MeetingCase.objects.filter(pk=row.pk).delete()  # the case again, once it is off the agenda
        return meeting_case_add(access=chair, actor=world.lead_supervisor, case_id=met.case.pk)
    if action == "invite":
        return meeting_invite(access=chair, actor=world.lead_supervisor, agency_id=world.health.pk)
    if action == "cancel":
        return meeting_cancel(access=chair, actor=world.lead_supervisor, reason="Trùng lịch")
    if action == "hold":
        return meeting_hold(access=chair, actor=world.lead_supervisor, held_on=timezone.localdate())
    if action == "attendance":
        return attendance_record(access=chair, actor=world.lead_supervisor, attended={world.police.pk: True})
    if action == "contribute":
        return contribution_add(access=chair, actor=world.lead_supervisor, meeting_case_id=row.pk,
                                category="police_legal", text="Đã ra quyết định cấm tiếp xúc.")
    if action == "plan_add":
        return plan_item_add(access=chair, actor=world.lead_supervisor, meeting_case_id=row.pk,
                             action="Gọi lại cho nạn nhân.", owner_agency_id=world.police.pk,
                             owner_user=world.lead_responder, due_at=timezone.now() + datetime.timedelta(days=3))
    assert action == "decide"
    return decision_record(access=chair, actor=world.lead_supervisor, meeting_case_id=row.pk, text="Lập kế hoạch.")


@pytest.mark.parametrize("state", list(ALLOWED))
def test_the_page_and_the_api_offer_what_the_table_allows(world, met_in, client, state):
    met = met_in(state)
    api = APIClient()
    for user, rights in ((world.lead_supervisor, {"coordinator", "runner", "taking_part"}),
                         (world.lead_responder, {"taking_part"})):
        expected = [a for a in MEETING_MACHINE.actions
                    if a in ALLOWED[state] and MEETING_MACHINE[a].right in rights]
        if state == "held" and user == world.lead_supervisor:  # the chair, and the minutes are a draft
            expected.append("sign")
        api.force_authenticate(user)
        assert api.get(f"/api/meetings/{met.meeting.pk}/").json()["allowed_actions"] == expected
        client.force_login(user)
        page = client.get(f"/meetings/{met.meeting.pk}/").content.decode()
        for action, marker in BUTTONS.items():
            assert (f'data-testid="{marker}"' in page) == (action in expected), (user.username, state, action)


def test_the_api_answers_409_when_the_state_refuses(world, met_in):
    met = met_in("cancelled")
    api = APIClient()
    api.force_authenticate(world.lead_supervisor)
    response = api.post(f"/api/meetings/{met.meeting.pk}/held/", {"held_on": timezone.localdate().isoformat()},
                        format="json")
    assert response.status_code == 409 and set(response.json()) == {"meeting"}, response.content


# --- Plan items ----------------------------------------------------------------------------------

PLAN_ALLOWED = {"open": {"done", "cancelled"}, "done": set(), "cancelled": set()}


@pytest.fixture
def item_in(world, shared_case):
    def build(state: str):
        met = meeting_build(world, shared_case.case)  # health invited: it may own an item
        chair = access_of(world.lead_supervisor, met.meeting)
        item = plan_item_add(access=chair, actor=world.lead_supervisor, meeting_case_id=met.row.pk,
                             action="Khám lại vết thương.", owner_agency_id=world.health.pk,
                             owner_user=world.receiving_responder, due_at=timezone.now() + datetime.timedelta(days=3))
        if state != "open":
            plan_item_finish(actor=world.lead_supervisor, item_id=item.pk, status=state)
        item.refresh_from_db()
        assert item.status == state
        return item
    return build


@pytest.mark.parametrize(("state", "action"), list(itertools.product(PLAN_ALLOWED, PLAN_ITEM_MACHINE.actions)))
def test_every_plan_item_pair(world, item_in, state, action):
    item = item_in(state)
    if action in PLAN_ALLOWED[state]:
        assert plan_item_finish(actor=world.lead_supervisor, item_id=item.pk, status=action).status == action
    else:
        with pytest.raises(TransitionNotAllowed) as refused:
            plan_item_finish(actor=world.lead_supervisor, item_id=item.pk, status=action)
        assert set(refused.value.message_dict) == {"status"}


def test_the_owner_is_offered_done_only_and_may_not_cancel(world, item_in, client):
    item = item_in("open")
    client.force_login(world.receiving_responder)
    page = client.get(f"/meetings/plan/{item.pk}/").content.decode()
    assert 'data-testid="plan-done"' in page and 'value="cancelled"' not in page  # the coordinator's alone
    with pytest.raises(PermissionDenied):
        plan_item_finish(actor=world.receiving_responder, item_id=item.pk, status="cancelled")
    client.force_login(world.lead_supervisor)
    page = client.get(f"/meetings/plan/{item.pk}/").content.decode()
    assert 'data-testid="plan-done"' in page and 'data-testid="plan-cancel"' in page
    assert plan_item_finish(actor=world.receiving_responder, item_id=item.pk, status="done").status == "done"
    client.force_login(world.receiving_responder)
    assert 'data-testid="plan-done"' not in client.get(f"/meetings/plan/{item.pk}/").content.decode()


@pytest.mark.parametrize("state", list(PLAN_ALLOWED))
def test_the_api_lists_the_plan_item_actions_the_table_allows(world, item_in, api, state):
    """Every answer that shows a plan item (the case's plan, the agency's open items, the meeting, the finish
    answer) lists what this user may do with it: the coordinator both, the owner agency `done` alone."""
    item = item_in(state)
    meeting_id = item.meeting_case.meeting_id
    for user, may in ((world.lead_supervisor, PLAN_ALLOWED[state]), (world.receiving_responder,
                                                                     PLAN_ALLOWED[state] & {"done"})):
        client = api(user)
        plan = client.get(f"/api/cases/{item.case_id}/plan-items/").json()
        assert [set(i["allowed_actions"]) for i in plan if i["id"] == item.pk] == [may]
        meeting = client.get(f"/api/meetings/{meeting_id}/")
        if meeting.status_code == 200:
            assert [set(i["allowed_actions"]) for i in meeting.json()["plan_items"] if i["id"] == item.pk] == [may]
        # The open items of one's own agencies: the owner's (health's) list alone holds it, while it is open.
        mine = [set(i["allowed_actions"]) for i in client.get("/api/plan-items/").json() if i["id"] == item.pk]
        assert mine == ([may] if state == "open" and user == world.receiving_responder else [])
    if state == "open":
        done = api(world.receiving_responder).post(f"/api/plan-items/{item.pk}/finish/", {"status": "done"},
                                                   format="json")
        assert done.status_code == 200 and done.json()["allowed_actions"] == []


# --- Minutes -------------------------------------------------------------------------------------

MINUTES_ALLOWED = {"draft": {"decide", "sign"}, "signed": {"correct"}}


@pytest.fixture
def minutes_in(world, met_in):
    """A held meeting whose latest minutes are a draft (version 1) or signed."""
    def build(state: str):
        met = met_in("held")
        if state == "signed":
            minutes_sign(access=access_of(world.lead_supervisor, met.meeting), actor=world.lead_supervisor)
        assert MeetingMinutes.objects.filter(meeting=met.meeting).latest("version").status == state
        return met
    return build


def _minutes_do(world, met, action: str):
    chair = access_of(world.lead_supervisor, met.meeting)
    if action == "decide":
        return decision_record(access=chair, actor=world.lead_supervisor, meeting_case_id=met.row.pk, text="Lập hồ sơ.")
    if action == "sign":
        return minutes_sign(access=chair, actor=world.lead_supervisor)
    assert action == "correct"
    return minutes_correct(access=chair, actor=world.lead_supervisor, reason="Sai ngày.")


# Each machine of a meeting: its table, the pairs expected, the fixture that puts a meeting in a state, the
# action done through its service, and the key its refusals are under.
MACHINES = {"meeting": (MEETING_MACHINE, ALLOWED, "met_in", _do),
            "minutes": (MINUTES_MACHINE, MINUTES_ALLOWED, "minutes_in", _minutes_do)}


def test_the_expected_pairs_are_the_tables():
    for machine, allowed, _fixture, _action in MACHINES.values():
        assert set(allowed) == set(machine.states)
        for state, actions in allowed.items():
            assert {a for a in machine.actions if state in machine[a].sources} == actions


@pytest.mark.parametrize(("name", "state", "action"), [
    (name, state, action) for name, (machine, allowed, _fixture, _do) in MACHINES.items()
    for state, action in itertools.product(allowed, machine.actions)])
def test_every_pair(world, request, name, state, action):
    machine, allowed, fixture, do = MACHINES[name]
    met = request.getfixturevalue(fixture)(state)
    if action in allowed[state]:
        do(world, met, action)
    else:
        with pytest.raises(TransitionNotAllowed) as refused:
            do(world, met, action)
        assert set(refused.value.message_dict) == {machine.error_key}


@pytest.mark.parametrize("state", list(MINUTES_ALLOWED))
def test_the_page_and_the_api_offer_the_minutes_actions_of_the_table(world, minutes_in, client, state):
    """The chair signs; whoever runs the meeting decides and corrects; a responder taking part does none."""
    met = minutes_in(state)
    api = APIClient()
    for user, may in ((world.lead_supervisor, MINUTES_ALLOWED[state]), (world.lead_responder, set())):
        api.force_authenticate(user)
        offered = set(api.get(f"/api/meetings/{met.meeting.pk}/").json()["allowed_actions"])
        assert offered & set(MINUTES_MACHINE.actions) == may
        client.force_login(user)
        page = client.get(f"/meetings/{met.meeting.pk}/").content.decode()
        for action in MINUTES_MACHINE.actions:
            assert (f'data-testid="{BUTTONS[action]}"' in page) == (action in may), (user.username, state, action)


def test_signing_without_a_draft_is_409_on_the_api(world, minutes_in):
    met = minutes_in("signed")
    api = APIClient()
    api.force_authenticate(world.lead_supervisor)
    response = api.post(f"/api/meetings/{met.meeting.pk}/minutes/sign/", {}, format="json")
    assert response.status_code == 409 and set(response.json()) == {"minutes"}
