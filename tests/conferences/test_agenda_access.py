"""Who may bring a case to a meeting, and who the coordinator learns of (conferences.selectors): a consent
lets the coordinator invite an agency; it never lets an agency reach a case on its own."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from conferences.selectors import agencies_invitable, agency_case_categories
from conferences.services import meeting_case_add, meeting_schedule
from handoffs.models import HandoffStatus
from tests.permissions.conftest import bare_case, consent, handoff, share

from .conftest import access_of

pytestmark = pytest.mark.django_db


def _meeting(world, supervisor):
    return meeting_schedule(actor=supervisor, scheduled_for=timezone.now() + datetime.timedelta(days=2),
                            mode="in_person", place="Phòng họp", chair=supervisor)


@pytest.mark.parametrize("granted, refused", [((), ("identity",)), (("education",), ())],
                         ids=["a-consent-that-only-refuses", "a-consent-that-grants"])
def test_an_agency_without_the_case_cannot_put_it_on_its_agenda(world, api, granted, refused):
    """The school in Huế holds no right on the Hanoi police's case; a consent covering its sector, granting or
    only refusing, made its supervisor able to put the case on a meeting of its own: the case number and
    its reasons on the meeting, the agenda and its decisions written into her timeline."""
    case = bare_case(world)
    consent(world, case, sector="education", granted=granted, refused=refused)
    assert api(world.outsider_supervisor).get(f"/api/cases/{case.pk}/").status_code == 404
    meeting = _meeting(world, world.outsider_supervisor)
    with pytest.raises(ValidationError) as refused_add:
        meeting_case_add(access=access_of(world.outsider_supervisor, meeting), actor=world.outsider_supervisor,
                         case_id=case.pk)
    # The same answer as for a case that does not exist: the refusal tells nothing.
    with pytest.raises(ValidationError) as missing:
        meeting_case_add(access=access_of(world.outsider_supervisor, meeting), actor=world.outsider_supervisor,
                         case_id=case.pk + 1000)
    assert refused_add.value.message_dict == missing.value.message_dict
    assert case.number not in api(world.outsider_supervisor).get(f"/api/meetings/{meeting.pk}/").content.decode()
    response = api(world.outsider_supervisor).post(f"/api/meetings/{meeting.pk}/agenda/", {"case_id": case.pk},
                                                   format="json")
    assert response.status_code == 400


def test_a_sector_consent_covers_the_sector_in_the_cases_province_only_and_must_grant(world):
    """An invited agency sees a case by consent only where the consent covers it (its sector within the case's
    province) and grants it something the survivor did not refuse."""
    case = bare_case(world)
    consent(world, case, sector="education", granted=["education"])
    # The school is in Huế, the case in Hanoi.
    assert agency_case_categories(case_ids=[case.pk], agency_ids=[world.school.pk]) == {}
    consent(world, case, agency=world.school, refused=["identity"])
    assert agency_case_categories(case_ids=[case.pk], agency_ids=[world.school.pk]) == {}
    consent(world, case, agency=world.school, granted=["education"])
    assert agency_case_categories(case_ids=[case.pk], agency_ids=[world.school.pk]) == {
        (case.pk, world.school.pk): {"general", "education"}}


def test_a_coordinator_who_is_not_the_lead_does_not_learn_the_leads_other_referrals(world):
    """handoffs.selectors.handoff_list_for_case: another agency's referral of the same case is not its
    business. The hospital coordinates a meeting about the case the police referred to it; the invitable
    list named the school the police also referred it to."""
    case = bare_case(world)
    share(world, case, agency=world.health, granted=["medical"])
    handoff(world, case, to=world.school, categories=["education"], status=HandoffStatus.SENT)
    meeting = _meeting(world, world.receiving_supervisor)
    meeting_case_add(access=access_of(world.receiving_supervisor, meeting), actor=world.receiving_supervisor,
                     case_id=case.pk)
    coordinator = access_of(world.receiving_supervisor, meeting)
    invitable = {row.agency.pk: row.why for row in agencies_invitable(access=coordinator)}
    # The police handed the case to the hospital: the hospital may invite them.
    assert invitable == {world.police.pk: ("handoff",)}
