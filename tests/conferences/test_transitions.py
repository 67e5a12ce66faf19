"""Every (state, action) pair of the meeting machine (conferences.models.MEETING_MACHINE): an action the
table allows succeeds through its service, any other is refused with TransitionNotAllowed (409 on the
API), and the page's buttons and the API's allowed_actions are what the table allows for the viewer. The
expected pairs are written out here as well, so that a change to the table is a change to this test."""

import datetime
import itertools

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases.transitions import TransitionNotAllowed
from conferences.models import MEETING_MACHINE, MeetingCase
from conferences.services import (
    attendance_record,
    contribution_add,
    decision_record,
    meeting_cancel,
    meeting_case_add,
    meeting_hold,
    meeting_invite,
    plan_item_add,
)

from .conftest import access_of, meeting_build

# The meeting page's form (or button) of each action it offers there.
BUTTONS = {"hold": "hold-submit", "attendance": "attendance-submit", "contribute": "contribution-form",
           "plan_add": "plan-form", "decide": "decision-form"}
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


def test_the_expected_pairs_are_the_table():
    assert set(ALLOWED) == set(MEETING_MACHINE.states)
    for state, actions in ALLOWED.items():
        assert {a for a in MEETING_MACHINE.actions if state in MEETING_MACHINE[a].sources} == actions


@pytest.mark.parametrize(("state", "action"), list(itertools.product(ALLOWED, MEETING_MACHINE.actions)))
def test_every_meeting_pair(world, met_in, state, action):
    met = met_in(state)
    if action in ALLOWED[state]:
        _do(world, met, action)
    else:
        with pytest.raises(TransitionNotAllowed) as refused:
            _do(world, met, action)
        assert set(refused.value.message_dict) == {"meeting"}


@pytest.mark.parametrize("state", list(ALLOWED))
def test_the_page_and_the_api_offer_what_the_table_allows(world, met_in, client, state):
    met = met_in(state)
    api = APIClient()
    for user, rights in ((world.lead_supervisor, {"coordinator", "runner", "taking_part"}),
                         (world.lead_responder, {"taking_part"})):
        expected = [a for a in MEETING_MACHINE.actions
                    if a in ALLOWED[state] and MEETING_MACHINE[a].right in rights]
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
