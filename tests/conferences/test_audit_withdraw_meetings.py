"""Audit (withdrawn consent): what an agency taking part in a case meeting still learns of an agenda case
it no longer sees (its consent withdrawn, or ended at its time).

The meeting page and GET /api/meetings/{id}/ filter the agenda, contributions, decisions and plan items by
what each agency sees now (sound: checked here too). The minutes' correction reasons were not filtered (typed
about the agenda's cases, shown to every agency taking part; the finding W3, whose tests failed on the code they
were written against): now they are shown to those who run the meeting only (MeetingAccess.reads_reasons).

Synthetic data only.
"""


import pytest
from django.utils import timezone

from conferences.services import (
    contribution_add,
    decision_record,
    meeting_hold,
    minutes_correct,
    minutes_sign,
)
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
