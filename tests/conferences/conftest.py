"""Fixtures of the case-meeting tests: the cases tests' shared case (led by the police, referred to
the health agency for medical data only; the school, in another province, is the outsider), a
meeting of the police coordinated by its supervisor (the chair) with that case on the agenda and
the health agency invited."""

import datetime
from dataclasses import dataclass

import pytest
from django.utils import timezone

from conferences.models import CaseMeeting, MeetingCase
from conferences.selectors import meeting_get_for_user
from conferences.services import meeting_case_add, meeting_invite, meeting_schedule
from tests.cases.conftest import SharedCase, case_build, shared_case, time_limits  # noqa: F401 (fixtures)


def access_of(user, meeting):
    return meeting_get_for_user(user=user, meeting_id=meeting.pk)


@dataclass
class Meeting:
    meeting: CaseMeeting
    row: MeetingCase
    case: object


def meeting_build(world, case, *, invite_health=True) -> Meeting:
    meeting = meeting_schedule(actor=world.lead_supervisor, scheduled_for=timezone.now() + datetime.timedelta(days=2),
                               mode="in_person", place="Phòng họp UBND phường", chair=world.lead_supervisor)
    row = meeting_case_add(access=access_of(world.lead_supervisor, meeting), actor=world.lead_supervisor,
                           case_id=case.pk)
    if invite_health:
        meeting_invite(access=access_of(world.lead_supervisor, meeting), actor=world.lead_supervisor,
                       agency_id=world.health.pk)
    return Meeting(meeting=meeting, row=row, case=case)


@pytest.fixture
def met(world, shared_case) -> Meeting:  # noqa: F811
    return meeting_build(world, shared_case.case)
