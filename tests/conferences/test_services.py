"""The case-meeting services: scheduling, invitations and who is told, contributions under consent,
attendance, minutes (sign-off, the database lock, corrections), plan items and their deadlines."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditEvent
from cases.models import CaseEvent, CaseEventType
from conferences.models import MeetingMinutes, MeetingStatus, MinutesDecision, MinutesStatus, PlanItemStatus
from conferences.selectors import (
    agencies_invitable,
    cases_awaiting_meeting,
    contributions_visible,
    coordinator_agency_for,
    last_meeting_dates,
    plan_items_for_case,
)
from conferences.services import (
    attendance_record,
    contribution_add,
    decision_record,
    meeting_hold,
    meeting_schedule,
    minutes_correct,
    minutes_sign,
    plan_item_add,
    plan_item_finish,
)
from config.exceptions import NotFound
from notifications.models import Deadline, Notification, NotificationKind
from risk.hooks import last_meeting_dates as risk_last_meeting_dates

from .conftest import access_of, meeting_build

pytestmark = pytest.mark.django_db


def _held(world, met):
    meeting_hold(access=access_of(world.lead_supervisor, met.meeting), actor=world.lead_supervisor,
                 held_on=timezone.localdate())
    met.meeting.refresh_from_db()


def test_only_a_supervisor_coordinates(world):
    assert coordinator_agency_for(world.lead_supervisor) == world.police
    for user in (world.lead_responder, world.analyst, world.lead_admin, world.sysadmin):
        assert coordinator_agency_for(user) is None
    with pytest.raises(PermissionDenied):
        meeting_schedule(actor=world.lead_responder, scheduled_for=timezone.now(), mode="call", place="",
                         chair=world.lead_responder)


def test_the_chair_is_of_the_coordinating_agency(world):
    with pytest.raises(ValidationError) as exc:
        meeting_schedule(actor=world.lead_supervisor, scheduled_for=timezone.now(), mode="call", place="",
                         chair=world.receiving_supervisor)
    assert "chair" in exc.value.message_dict


def test_invited_agencies_staff_are_told(world, met):
    told = set(Notification.objects.filter(kind=NotificationKind.MEETING_INVITATION)
               .values_list("recipient__username", flat=True))
    assert told == {"lead_responder", "lead_supervisor", "receiving_responder", "receiving_supervisor"}


def test_only_handed_or_consented_agencies_are_invitable(world, met):
    coordinator = access_of(world.lead_supervisor, met.meeting)
    invitable = {row.agency.pk: row for row in agencies_invitable(access=coordinator)}
    assert set(invitable) == {world.health.pk}
    assert invitable[world.health.pk].categories[met.case.pk] == {"general", "medical"}
    with pytest.raises(ValidationError):
        from conferences.services import meeting_invite

        meeting_invite(access=access_of(world.lead_supervisor, met.meeting), actor=world.lead_supervisor,
                       agency_id=world.school.pk)


def test_the_agenda_leaves_the_coordinators_list_and_puts_a_line_on_the_case(world, shared_case):
    from tests.risk.conftest import answers_with, assess

    case = shared_case.case
    assess(world, case, answers=answers_with(15))
    awaiting = {row.case.pk: row.reasons for row in cases_awaiting_meeting(user=world.lead_supervisor)}
    assert awaiting == {case.pk: ("high_risk",)}
    assert cases_awaiting_meeting(user=world.lead_responder) == []  # not a coordinator
    assert cases_awaiting_meeting(user=world.outsider_supervisor) == []  # does not see the case
    met = meeting_build(world, case)
    assert met.row.reasons == "high_risk"
    assert cases_awaiting_meeting(user=world.lead_supervisor) == []
    assert CaseEvent.objects.filter(case=case, type=CaseEventType.MEETING_CASE_ADDED).count() == 1


def test_a_not_invited_agency_sees_no_meeting(world, met):
    with pytest.raises(NotFound):
        access_of(world.outsider_supervisor, met.meeting)
    for user in (world.analyst, world.sysadmin, world.lead_admin):
        with pytest.raises(NotFound):
            access_of(user, met.meeting)


def test_contributions_only_in_categories_the_agency_sees(world, met):
    health = access_of(world.receiving_responder, met.meeting)
    assert health.visible[met.case.pk] == {"general", "medical"}
    contribution_add(access=health, actor=world.receiving_responder, meeting_case_id=met.row.pk,
                     category="medical", text="Vết thương đã lành.")
    with pytest.raises(ValidationError) as exc:
        contribution_add(access=health, actor=world.receiving_responder, meeting_case_id=met.row.pk,
                         category="police_legal", text="Không được.")
    assert "category" in exc.value.message_dict
    police = access_of(world.lead_responder, met.meeting)
    contribution_add(access=police, actor=world.lead_responder, meeting_case_id=met.row.pk,
                     category="police_legal", text="Đã ra quyết định cấm tiếp xúc.")
    seen_by_health = {c.category for c in contributions_visible(access=access_of(world.receiving_responder,
                                                                                  met.meeting))}
    assert seen_by_health == {"medical"}
    seen_by_police = {c.category for c in contributions_visible(access=police)}
    assert seen_by_police == {"medical", "police_legal"}
    assert AuditEvent.objects.filter(target__startswith="meeting_contribution:").count() == 2


def test_the_chair_types_for_an_agency_only_what_both_see(world, met):
    chair = access_of(world.lead_supervisor, met.meeting)
    row = contribution_add(access=chair, actor=world.lead_supervisor, meeting_case_id=met.row.pk,
                           category="medical", text="Bệnh viện báo cáo.", agency_id=world.health.pk)
    assert row.agency == world.health and row.author == world.lead_supervisor
    with pytest.raises(PermissionDenied):
        contribution_add(access=access_of(world.receiving_responder, met.meeting), actor=world.receiving_responder,
                         meeting_case_id=met.row.pk, category="general", text="x", agency_id=world.police.pk)


def test_attendance_minutes_sign_and_lock(world, met):
    chair = access_of(world.lead_supervisor, met.meeting)
    attendance_record(access=chair, actor=world.lead_supervisor,
                      attended={world.police.pk: True, world.health.pk: False})
    with pytest.raises(ValidationError):
        decision_record(access=chair, actor=world.lead_supervisor, meeting_case_id=met.row.pk, text="Trước khi họp")
    _held(world, met)
    chair = access_of(world.lead_supervisor, met.meeting)
    decision_record(access=chair, actor=world.lead_supervisor, meeting_case_id=met.row.pk, text="Lập kế hoạch an toàn.")
    with pytest.raises(PermissionDenied):
        minutes_sign(access=access_of(world.lead_responder, met.meeting), actor=world.lead_responder)
    signed = minutes_sign(access=chair, actor=world.lead_supervisor)
    assert signed.status == MinutesStatus.SIGNED and signed.version == 1
    assert CaseEvent.objects.filter(case=met.case, type=CaseEventType.MINUTES_SIGNED).count() == 1
    with pytest.raises(ValidationError):
        decision_record(access=chair, actor=world.lead_supervisor, meeting_case_id=met.row.pk, text="Sửa lén.")
    # The database refuses what the services refuse.
    for attempt in (
        lambda: MeetingMinutes.objects.filter(pk=signed.pk).update(correction_reason="x"),
        lambda: MeetingMinutes.objects.filter(pk=signed.pk).delete(),
        lambda: MinutesDecision.objects.filter(minutes=signed).update(text="khác"),
        lambda: MinutesDecision.objects.filter(minutes=signed).delete(),
        lambda: MinutesDecision.objects.create(minutes=signed, case=met.case, text="thêm"),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            attempt()
    assert MinutesDecision.objects.get(minutes=signed).text == "Lập kế hoạch an toàn."


def test_a_correction_is_a_new_version(world, met):
    _held(world, met)
    chair = access_of(world.lead_supervisor, met.meeting)
    decision_record(access=chair, actor=world.lead_supervisor, meeting_case_id=met.row.pk, text="Bản đầu.")
    minutes_sign(access=chair, actor=world.lead_supervisor)
    with pytest.raises(ValidationError):
        minutes_correct(access=chair, actor=world.lead_supervisor, reason="  ")
    draft = minutes_correct(access=chair, actor=world.lead_supervisor, reason="Ghi sai ngày.")
    assert (draft.version, draft.status) == (2, MinutesStatus.DRAFT)
    decision_record(access=chair, actor=world.lead_supervisor, meeting_case_id=met.row.pk, text="Bản sửa.")
    minutes_sign(access=chair, actor=world.lead_supervisor)
    texts = [d.text for d in MinutesDecision.objects.filter(minutes__meeting=met.meeting).order_by("minutes__version")]
    assert texts == ["Bản đầu.", "Bản sửa."]


def test_held_meeting_is_the_cases_last_meeting(world, met):
    assert last_meeting_dates([met.case.pk]) == {}
    _held(world, met)
    assert met.meeting.status == MeetingStatus.HELD
    assert risk_last_meeting_dates([met.case.pk]) == {met.case.pk: timezone.localdate()}


def test_plan_items_are_deadlines_closed_when_done_or_cancelled(world, met):
    chair = access_of(world.lead_supervisor, met.meeting)
    due = timezone.now() + datetime.timedelta(days=3)
    item = plan_item_add(access=chair, actor=world.lead_supervisor, meeting_case_id=met.row.pk,
                         action="Khám lại vết thương.", owner_agency_id=world.health.pk,
                         owner_user=world.receiving_responder, due_at=due)
    deadline = Deadline.objects.get(subject=f"plan_item:{item.pk}")
    assert (deadline.kind, deadline.owner_agency, deadline.owner_user, deadline.escalate_agency, deadline.due_at) == (
        Deadline.Kind.ACTION_PLAN, world.health, world.receiving_responder, world.police, due)
    with pytest.raises(ValidationError):
        plan_item_add(access=chair, actor=world.lead_supervisor, meeting_case_id=met.row.pk, action="x",
                      owner_agency_id=world.school.pk, owner_user=None, due_at=due)
    with pytest.raises(ValidationError):
        plan_item_add(access=chair, actor=world.lead_supervisor, meeting_case_id=met.row.pk, action="x",
                      owner_agency_id=world.health.pk, owner_user=world.lead_responder, due_at=due)
    with pytest.raises(PermissionDenied):
        plan_item_finish(actor=world.receiving_responder, item_id=item.pk, status=PlanItemStatus.CANCELLED)
    with pytest.raises(NotFound):
        plan_item_finish(actor=world.outsider_supervisor, item_id=item.pk, status=PlanItemStatus.DONE)
    plan_item_finish(actor=world.receiving_responder, item_id=item.pk, status=PlanItemStatus.DONE)
    deadline.refresh_from_db()
    assert deadline.closed_at is not None
    other = plan_item_add(access=chair, actor=world.lead_supervisor, meeting_case_id=met.row.pk,
                          action="Tìm nơi tạm lánh.", owner_agency_id=world.police.pk, owner_user=None, due_at=due)
    plan_item_finish(actor=world.lead_supervisor, item_id=other.pk, status=PlanItemStatus.CANCELLED)
    assert Deadline.objects.get(subject=f"plan_item:{other.pk}").closed_at is not None
    # Finished items in the order they were finished (the open ones would come first).
    assert [i.status for i in plan_items_for_case(case_id=met.case.pk)] == ["done", "cancelled"]
    closed = CaseEvent.objects.filter(case=met.case, type=CaseEventType.DEADLINE_CLOSED).values_list("data", flat=True)
    assert {d["reason"] for d in closed} >= {"done", "plan_cancelled"}
