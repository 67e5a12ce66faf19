"""Audit (withdrawn consent): what an agency taking part in a case meeting still learns of an agenda case
it no longer sees (its consent withdrawn, or ended at its time).

The meeting page and GET /api/meetings/{id}/ filter the agenda, contributions, decisions and plan items by
what each agency sees now (sound: checked here too). Two things were not filtered, the findings W3 and W4 (their
tests failed on the code they were written against): the minutes' correction reasons (typed about the agenda's
cases, shown to every agency taking part; now to those who run the meeting only, MeetingAccess.reads_reasons) and
the coordinator's list of agencies it may invite (computed over every agenda case, whether the coordinator still
saw it or not; now over the agenda cases it sees at that instant, and the invitation follows the list).

Synthetic data only.
"""

import datetime

import pytest
import time_machine
from django.utils import timezone

from cases.models import Consent
from cases.selectors import case_get_for_user
from cases.services import consent_withdraw
from conferences.models import MeetingInvitation
from conferences.services import (
    contribution_add,
    decision_record,
    meeting_case_add,
    meeting_hold,
    meeting_schedule,
    minutes_correct,
    minutes_sign,
)
from config.exceptions import NotFound
from tests.cases.services_helpers import access_for, consent_data, consent_record_through_edge
from tests.conferences.conftest import access_of, meeting_build
from tests.support.withdraw import hospital_consent_withdrawn

pytestmark = pytest.mark.django_db

REASON = "CORRECTION-NAMES-HER: chị Nguyễn Thị Hoa đã chuyển đến 25 ngõ Văn Chương"
CONTRIBUTION = "CONTRIBUTION-MEDICAL: vết thương ở tay"
DECISION = "DECISION-TEXT: bố trí nhà tạm lánh"


def _meeting_json(api, user, meeting) -> dict:
    response = api(user).get(f"/api/meetings/{meeting.pk}/")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_lost_case_leaves_the_meeting_for_the_agency_that_lost_it(world, shared_case, api):
    """Sound: after the withdrawal the hospital's view of the meeting has no agenda case, contribution,
    decision or plan item of the case."""
    met = meeting_build(world, shared_case.case)
    contribution_add(access=access_of(world.receiving_responder, met.meeting), actor=world.receiving_responder,
                     meeting_case_id=met.row.pk, category="medical", text=CONTRIBUTION)
    meeting_hold(access=access_of(world.lead_supervisor, met.meeting), actor=world.lead_supervisor,
                 held_on=timezone.localdate())
    decision_record(access=access_of(world.lead_supervisor, met.meeting), actor=world.lead_supervisor,
                    meeting_case_id=met.row.pk, text=DECISION)
    hospital_consent_withdrawn(world, met.case)
    body = _meeting_json(api, world.receiving_responder, met.meeting)
    assert body["agenda"] == [] and body["contributions"] == [] and body["decisions"] == []
    assert body["plan_items"] == []


def _held_signed(world, met) -> None:
    meeting_hold(access=access_of(world.lead_supervisor, met.meeting), actor=world.lead_supervisor,
                 held_on=timezone.localdate())
    minutes_sign(access=access_of(world.lead_supervisor, met.meeting), actor=world.lead_supervisor)


def test_minutes_correction_reason_is_not_shown_to_an_agency_that_lost_every_agenda_case(world, shared_case, api):
    """W3: the survivor withdraws the hospital's consent; the chair then corrects the signed minutes with a
    reason that names her. The hospital, which sees none of the agenda's cases any more, reads the reason
    in GET /api/meetings/{id}/ (minutes[].correction_reason)."""
    met = meeting_build(world, shared_case.case)
    _held_signed(world, met)
    hospital_consent_withdrawn(world, met.case)
    minutes_correct(access=access_of(world.lead_supervisor, met.meeting), actor=world.lead_supervisor, reason=REASON)

    body = _meeting_json(api, world.receiving_responder, met.meeting)
    assert body["agenda"] == []
    reasons = [version["correction_reason"] for version in body["minutes"]]
    assert REASON not in reasons, "the hospital reads text typed about a case it no longer sees"


def test_minutes_correction_reason_is_not_on_the_meeting_page_of_an_agency_that_lost_the_case(world, shared_case,
                                                                                            web):
    """W3 (page): the same reason in the meeting page's minutes card."""
    met = meeting_build(world, shared_case.case)
    _held_signed(world, met)
    hospital_consent_withdrawn(world, met.case)
    minutes_correct(access=access_of(world.lead_supervisor, met.meeting), actor=world.lead_supervisor, reason=REASON)
    page = web(world.receiving_responder).get(f"/meetings/{met.meeting.pk}/").content.decode()
    assert "CORRECTION-NAMES-HER" not in page


def test_those_who_run_the_meeting_read_the_correction_reason_and_no_one_else(world, shared_case, api, web):
    """W3, the rule (MeetingAccess.reads_reasons): the chair and the coordinating agency's supervisors, who type
    the reasons, read them on the API and the page; an invited agency does not, even while it sees every agenda
    case (a reason may name the survivor of any of them, and is not the meeting's content)."""
    met = meeting_build(world, shared_case.case)
    _held_signed(world, met)
    minutes_correct(access=access_of(world.lead_supervisor, met.meeting), actor=world.lead_supervisor, reason=REASON)
    body = _meeting_json(api, world.lead_supervisor, met.meeting)
    assert [version["correction_reason"] for version in body["minutes"]] == ["", REASON]
    assert "CORRECTION-NAMES-HER" in web(world.lead_supervisor).get(f"/meetings/{met.meeting.pk}/").content.decode()
    hospital = _meeting_json(api, world.receiving_responder, met.meeting)
    assert [row["case_id"] for row in hospital["agenda"]] == [met.case.pk]  # it sees every agenda case
    assert [version["correction_reason"] for version in hospital["minutes"]] == ["", ""]
    assert [version["version"] for version in hospital["minutes"]] == [1, 2]  # that it was corrected is shown
    page = web(world.receiving_responder).get(f"/meetings/{met.meeting.pk}/").content.decode()
    assert "CORRECTION-NAMES-HER" not in page


def _hospital_coordinates(world, case):
    """The hospital (which holds an accepted referral of the police's case) schedules a meeting and puts the
    case on its agenda: it coordinates."""
    meeting = meeting_schedule(actor=world.receiving_supervisor,
                               scheduled_for=timezone.now() + datetime.timedelta(days=2), mode="in_person",
                               place="Phòng giao ban bệnh viện", chair=world.receiving_supervisor)
    meeting_case_add(access=access_of(world.receiving_supervisor, meeting), actor=world.receiving_supervisor,
                     case_id=case.pk)
    return meeting


def _school_consent_recorded(world, case) -> None:
    """The police record her consent for the school (education), which then may be invited."""
    consent_record_through_edge(access=access_for(world.lead_responder, case, "manage_sharing"),
                                actor=world.lead_responder,
                                data=consent_data(world, receiving_agency=world.school,
                                                  granted_categories=["education"], refused_categories=[],
                                                  purpose="An toàn ở trường"))


def test_invitable_list_says_nothing_of_a_case_the_coordinator_lost(world, shared_case, api):
    """W4: the hospital coordinates a meeting with the police's case on its agenda. The survivor withdraws the
    hospital's consent, and later the police record her consent for the school. The hospital's invitable
    list (GET /api/meetings/{id}/invitable/) tells the hospital that a consent in force now covers the school
    for that case, and which categories it grants: a fact of a case the hospital no longer sees."""
    case = shared_case.case
    meeting = _hospital_coordinates(world, case)
    hospital_consent_withdrawn(world, case)
    _school_consent_recorded(world, case)
    response = api(world.receiving_supervisor).get(f"/api/meetings/{meeting.pk}/invitable/")
    assert response.status_code == 200, response.content
    named = {row["agency"]["id"]: row for row in response.json()}
    assert world.school.pk not in named, (
        f"the hospital learns of the school's consent on a case it lost: {named.get(world.school.pk)}")


def test_invitable_list_says_nothing_after_the_coordinators_consent_expired(world, shared_case, api):
    """W4 (expiry by time): the hospital's consent ends at its time; the list computed after that instant still
    reads the agenda case's consents for the coordinator."""
    case = shared_case.case
    meeting = _hospital_coordinates(world, case)
    ends = timezone.now() + datetime.timedelta(days=1)
    lead = access_for(world.lead_responder, case, "manage_sharing")
    consent_record_through_edge(access=lead, actor=world.lead_responder,
                                data=consent_data(world, receiving_agency=world.school,
                                                  granted_categories=["education"], refused_categories=[],
                                                  purpose="An toàn ở trường"))
    # The hospital's consent is replaced by one that ends tomorrow.
    old = Consent.objects.get(case=case, receiving_agency=world.health, withdrawn_at__isnull=True)
    consent_record_through_edge(access=lead, actor=world.lead_responder,
                                data=consent_data(world, expires_at=ends))
    consent_withdraw(access=lead, actor=world.lead_responder, consent_id=old.pk, reason="")
    with time_machine.travel(ends + datetime.timedelta(hours=1), tick=False):
        with pytest.raises(NotFound):
            case_get_for_user(user=world.receiving_responder, case_id=case.pk)
        response = api(world.receiving_supervisor).get(f"/api/meetings/{meeting.pk}/invitable/")
    assert response.status_code == 200, response.content
    assert world.school.pk not in {row["agency"]["id"] for row in response.json()}



def test_a_coordinator_that_lost_the_case_invites_no_one_through_it(world, shared_case, api, web):
    """W4 (the invitation): before the loss the hospital may invite the police (who handed it the case) and the
    school (a consent in force); after it, the list and the page's invitable table are empty and inviting either
    agency is refused as for an agency no agenda case links to, so the answer tells nothing either."""
    case = shared_case.case
    meeting = _hospital_coordinates(world, case)
    _school_consent_recorded(world, case)
    url = f"/api/meetings/{meeting.pk}/invitable/"
    before = {row["agency"]["id"] for row in api(world.receiving_supervisor).get(url).json()}
    assert {world.police.pk, world.school.pk} <= before
    hospital_consent_withdrawn(world, case)
    assert api(world.receiving_supervisor).get(url).json() == []
    page = web(world.receiving_supervisor).get(f"/meetings/{meeting.pk}/").content.decode()
    assert 'data-testid="invitable"' not in page
    for agency in (world.school, world.police):
        response = api(world.receiving_supervisor).post(f"/api/meetings/{meeting.pk}/invitations/",
                                                        {"agency_id": agency.pk}, format="json")
        assert response.status_code == 400 and "agency" in response.json(), response.content
    assert MeetingInvitation.objects.filter(meeting=meeting).count() == 1  # the hospital itself


def test_invitable_list_reads_the_coordinating_agencys_own_sight_of_a_case(world, shared_case, api):
    """W4 for a person of two agencies: the hospital's supervisor also works for the invited school, which still
    sees the case. Acting for the hospital, which lost it, the list names no one through that case: what the
    school sees is not the coordinating agency's, and inviting through it would be the hospital's act."""
    from agencies.services import membership_add
    from conferences.services import meeting_invite

    case = shared_case.case
    meeting = _hospital_coordinates(world, case)
    _school_consent_recorded(world, case)
    meeting_invite(access=access_of(world.receiving_supervisor, meeting), actor=world.receiving_supervisor,
                   agency_id=world.school.pk)
    membership_add(user=world.receiving_supervisor, agency=world.school, role="responder")
    hospital_consent_withdrawn(world, case)
    as_hospital = {"HTTP_X_ACTING_AGENCY": str(world.health.pk)}
    detail = api(world.receiving_supervisor).get(f"/api/meetings/{meeting.pk}/", **as_hospital)
    assert [row["case_id"] for row in detail.json()["agenda"]] == [case.pk]  # the person sees it, by the school
    response = api(world.receiving_supervisor).get(f"/api/meetings/{meeting.pk}/invitable/", **as_hospital)
    assert response.status_code == 200, response.content
    assert response.json() == [], "the coordinating agency's list reads a case through the person's other agency"
