"""seed_demo's case-meeting step: two meetings of the lead agency of the demo's high-risk case, made
through the services by a supervisor of that agency (the coordinator and chair): one held, with
contributions, decisions, signed minutes and a plan of which one item is overdue; one scheduled for
next week with a plan item overdue too. Runs after the risk step (apps order) and once.

The held meeting and the high assessment that led to it are dated last month (the services take
present times only, so the rows are moved afterwards, demo data only): the demo's monthly reports,
built after every other step, then count both in last month's report, as the issue's story asks."""

import datetime

from django.contrib.auth.models import User
from django.db.models import Count
from django.utils import timezone

from agencies.demo import DemoWorld
from agencies.models import Membership, Role
from cases.models import Case, CaseStatus
from config.api import input_validate
from notifications.models import Deadline
from risk.models import AssessmentStatus, RiskAssessment

from . import serializers as inputs
from . import services
from .models import ActionPlanItem, CaseMeeting, MeetingCase, MeetingInvitation
from .selectors import agencies_invitable, meeting_get_for_user, plan_item_subject

DAY = datetime.timedelta(days=1)


def _coordinator(agency_id: int):
    member = (Membership.objects.filter(agency_id=agency_id, role=Role.SUPERVISOR)
              .annotate(agencies=Count("user__memberships__agency", distinct=True)).filter(agencies=1)
              .select_related("user").order_by("user__username").first())
    return member.user if member else None


def _made_overdue(item: ActionPlanItem, *, days: int) -> None:
    """Demo data only: an item agreed earlier whose due time has passed (the services take future
    due times); its deadline moves with it, so the next sweep reminds and escalates it."""
    now = timezone.now()
    due = now - days * DAY
    ActionPlanItem.objects.filter(pk=item.pk).update(due_at=due, created_at=due - 7 * DAY)
    Deadline.objects.filter(subject=plan_item_subject(item.pk)).update(
        due_at=due, remind_at=due - DAY, escalate_at=due + DAY, next_fire_at=due - DAY)


def _last_month(now: datetime.datetime) -> datetime.datetime:
    """A weekday morning, local time, around the 20th of last month."""
    day = timezone.localdate(now).replace(day=1) - 10 * DAY
    while day.weekday() >= 5:
        day -= DAY
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))


def _moved_to(meeting: CaseMeeting, assessment: RiskAssessment, when: datetime.datetime) -> None:
    """Demo data only: the assessment a week before the meeting, the meeting held at `when`."""
    assessed = when - 7 * DAY
    RiskAssessment.objects.filter(pk=assessment.pk).update(created_at=assessed, updated_at=assessed,
                                                           completed_at=assessed)
    CaseMeeting.objects.filter(pk=meeting.pk).update(scheduled_for=when, held_on=timezone.localdate(when),
                                                     created_at=assessed)
    MeetingCase.objects.filter(meeting=meeting).update(added_at=assessed)
    MeetingInvitation.objects.filter(meeting=meeting).update(invited_at=assessed)


def _meeting(actor: User, *, when: datetime.datetime, case_ids: list[int], place: str):
    values = input_validate(inputs.MeetingScheduleInputSerializer, {
        "scheduled_for": when.isoformat(), "mode": "in_person", "place": place, "chair": actor.pk},
        agency=Membership.objects.get(user=actor, role=Role.SUPERVISOR).agency)
    meeting = services.meeting_schedule(actor=actor, **values)
    for case_id in case_ids:
        services.meeting_case_add(access=meeting_get_for_user(user=actor, meeting_id=meeting.pk), actor=actor,
                                  case_id=case_id)
    for row in agencies_invitable(access=meeting_get_for_user(user=actor, meeting_id=meeting.pk)):
        services.meeting_invite(access=meeting_get_for_user(user=actor, meeting_id=meeting.pk), actor=actor,
                                agency_id=row.agency.pk)
    return meeting


def _plan(actor: User, meeting: CaseMeeting, row, *, action: str, owner_agency_id: int, days: int):
    access = meeting_get_for_user(user=actor, meeting_id=meeting.pk)
    values = input_validate(inputs.PlanItemInputSerializer, {
        "meeting_case_id": row.pk, "action": action, "owner_agency_id": owner_agency_id,
        "due_at": (timezone.now() + days * DAY).isoformat()})
    return services.plan_item_add(access=access, actor=actor, **values)


def seed_demo_conferences_step(world: DemoWorld) -> None:
    if CaseMeeting.objects.exists():
        return
    high = (RiskAssessment.objects.filter(status=AssessmentStatus.COMPLETED, level__in=("high", "severe"))
            .select_related("case").order_by("completed_at").first())
    if high is None:
        return
    lead_id = high.case.lead_agency_id
    actor = _coordinator(lead_id)
    if actor is None:
        return
    now = timezone.now()
    held = _meeting(actor, when=now - datetime.timedelta(hours=3), case_ids=[high.case_id],
                    place="Phòng họp Ủy ban nhân dân phường")
    access = meeting_get_for_user(user=actor, meeting_id=held.pk)
    row = held.agenda.get()
    services.attendance_record(access=access, actor=actor,
                               attended={i.agency_id: True for i in held.invitations.all()})
    services.contribution_add(access=access, actor=actor, meeting_case_id=row.pk, category="general",
                              text="Nạn nhân đã chuyển đến nhà người thân; đối tượng vẫn nhắn tin đe dọa.")
    services.meeting_hold(access=access, actor=actor, held_on=timezone.localdate())
    services.decision_record(access=access, actor=actor, meeting_case_id=row.pk,
                             text="Lập kế hoạch an toàn; đề nghị biện pháp cấm tiếp xúc; theo dõi hằng tuần.")
    _plan(actor, held, row, action="Gọi điện kiểm tra an toàn hằng tuần.", owner_agency_id=lead_id, days=7)
    late = _plan(actor, held, row, action="Hoàn thiện hồ sơ đề nghị cấm tiếp xúc.", owner_agency_id=lead_id,
                 days=3)
    _made_overdue(late, days=2)
    services.minutes_sign(access=meeting_get_for_user(user=actor, meeting_id=held.pk), actor=actor)
    _moved_to(held, high, _last_month(now))
    other = (Case.objects.filter(lead_agency_id=lead_id).exclude(pk=high.case_id).exclude(status=CaseStatus.CLOSED)
             .order_by("number").values_list("pk", flat=True).first()) or high.case_id
    upcoming = _meeting(actor, when=now + 7 * DAY, case_ids=[other], place="Gọi video qua Zalo")
    item = _plan(actor, upcoming, upcoming.agenda.get(), action="Thu thập ý kiến nhà trường trước cuộc họp.",
                 owner_agency_id=lead_id, days=2)
    _made_overdue(item, days=1)

