"""Two writes of one meeting at the same moment (two coordinators, or one double tap on a phone): adding
the same case to the agenda, inviting the same agency, recording the meeting as held. Each write locks the
meeting's row first (conferences.services._state_check), so the second runs after the first, sees what it
did and is refused with the message a later request gets: never a 500 from the unique constraints, never
a meeting held twice. PostgreSQL only: SQLite serializes writes, so its second writer never overlaps."""


import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext

from cases.models import CaseEvent, CaseEventType
from cases.transitions import TransitionNotAllowed
from conferences.models import MeetingCase, MeetingInvitation, MeetingMinutes
from conferences.selectors import meeting_get_for_user
from conferences.services import meeting_case_add, meeting_hold, meeting_invite
from tests.support.sql import second_waits_for_first

from .conftest import meeting_build

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="row locks are PostgreSQL's; SQLite serializes writes")


def _twice_at_once(write) -> list[Exception]:
    """`write()` twice, the second while the first's transaction is open (it must wait): what the second
    raised."""
    _first, second = second_waits_for_first(write, write)
    return [second] if isinstance(second, Exception) else []


def _as_coordinator(world, meeting, service, **arguments):
    def write():
        access = meeting_get_for_user(user=world.lead_supervisor, meeting_id=meeting.pk)
        service(access=access, actor=world.lead_supervisor, **arguments)
    return write


@pytest.fixture
def empty_meeting(transactional_db, world, shared_case):
    built = meeting_build(world, shared_case.case, invite_health=False)
    MeetingCase.objects.filter(pk=built.row.pk).delete()
    return built


def _refused(errors: list[Exception], field: str, message: str, kind: type[ValidationError] = ValidationError) -> None:
    assert len(errors) == 1 and type(errors[0]) is kind, errors
    assert errors[0].message_dict == {field: [gettext(message)]}


def test_a_case_added_twice_at_once_is_on_the_agenda_once(world, empty_meeting):
    meeting = empty_meeting.meeting
    errors = _twice_at_once(_as_coordinator(world, meeting, meeting_case_add, case_id=empty_meeting.case.pk))
    _refused(errors, "case", "This case is already on the agenda.")
    assert MeetingCase.objects.filter(meeting=meeting).count() == 1


def test_an_agency_invited_twice_at_once_is_invited_once(world, empty_meeting):
    meeting = empty_meeting.meeting
    _as_coordinator(world, meeting, meeting_case_add, case_id=empty_meeting.case.pk)()
    errors = _twice_at_once(_as_coordinator(world, meeting, meeting_invite, agency_id=world.health.pk))
    _refused(errors, "agency", "This agency is already invited.")
    assert MeetingInvitation.objects.filter(meeting=meeting, agency=world.health).count() == 1


def test_a_meeting_recorded_as_held_twice_at_once_is_held_once(world, empty_meeting):
    meeting = empty_meeting.meeting
    _as_coordinator(world, meeting, meeting_case_add, case_id=empty_meeting.case.pk)()
    errors = _twice_at_once(_as_coordinator(world, meeting, meeting_hold, held_on=timezone.localdate()))
    _refused(errors, "meeting", "This meeting is cancelled or already held.", TransitionNotAllowed)
    assert MeetingMinutes.objects.filter(meeting=meeting).count() == 1
    assert CaseEvent.objects.filter(case=empty_meeting.case, type=CaseEventType.MEETING_HELD).count() == 1
