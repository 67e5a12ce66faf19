"""Writes of the case-meeting app: schedule, agenda, invitations, contributions, attendance, held,
minutes (decisions, sign-off, corrections), action plan items, cancel.

Each service runs in one transaction with its audit event, its timeline lines and its notifications
(outbox rows, relayed after commit), as the handoff services do. Access comes first
(conferences.selectors.meeting_get_for_user: NotFound for an agency that takes no part), then the
rules (PermissionDenied, ValidationError with messages by field). Values are typed: the API's and
pages' input serializers (conferences.serializers) turned the request into them.

Rules (README, "Case meetings"):
- The coordinator (a supervisor acting for the coordinating agency) schedules, builds the agenda and
  invites; the chair or the coordinator runs the meeting (attendance, contributions typed for an
  agency, decisions, plan items); only the chair signs the minutes.
- An agency may be invited when an agenda case was handed to it or a consent in force covers it;
  its supervisors and responders are told.
- A contribution is in one category that its agency may see of the case (and, when typed by the
  chair for another agency, that the chair's agencies may see too).
- Signed minutes never change (and the database refuses it: conferences.triggers); a correction is
  a new draft version with a reason, which the chair signs again.
- The reasons typed about the meeting (cancelling, correcting) are sealed with the meeting's own key
  (conferences.keys), destroyed when any case on the agenda is anonymised; the audit events say what
  was done, never why.
- A plan item is a Deadline (kind action_plan, subject plan_item:<id>) owned by its owner agency and
  person, escalating to the coordinating agency; done or cancelled closes it. While the owner agency
  cannot see the case, the coordinating agency answers for the deadline (notifications.sight).
"""

import datetime

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Membership
from audit.models import AuditAction
from audit.services import audit_record
from cases import events
from cases.events import DeadlineClosure
from cases.models import Case
from notifications.models import Deadline, NotificationKind
from notifications.services import deadline_close, deadline_create, notify
from permissions.categories import GENERAL
from permissions.policy import CASE_ROLES
from risk.selectors import cases_eligible_for_meeting

from .keys import meeting_key_ensure
from .models import (
    MEETING_MACHINE,
    MINUTES_MACHINE,
    OWNER,
    PLAN_ITEM_MACHINE,
    ActionPlanItem,
    CaseMeeting,
    Contribution,
    MeetingCase,
    MeetingInvitation,
    MeetingMinutes,
    MeetingStatus,
    MinutesDecision,
    MinutesStatus,
    PlanItemStatus,
)
from .selectors import (
    MeetingAccess,
    agencies_invitable,
    agency_case_categories,
    agency_case_rows,
    coordinator_agency_for,
    meeting_get_for_user,
    meeting_path,
    plan_item_get_for_user,
    plan_item_rights,
    plan_item_subject,
)

TEXT_LIMIT = 4000
REASON_LIMIT = 300  # why the minutes were corrected
CANCEL_REASON_LIMIT = 200  # why the meeting was cancelled


def _staff(agency_id: int) -> list[int]:
    return list(Membership.objects.filter(agency_id=agency_id, role__in=CASE_ROLES, user__is_active=True)
                .values_list("user_id", flat=True))


def _is_member(user: User, agency_id: int) -> bool:
    return Membership.objects.filter(user=user, agency_id=agency_id, role__in=CASE_ROLES, user__is_active=True,
                                     agency__active=True).exists()


def _coordinator_check(access: MeetingAccess) -> Agency:
    if not access.is_coordinator:
        raise PermissionDenied(_("Only a supervisor of the coordinating agency may do this."))
    return access.meeting.coordinator_agency


def _runner_check(access: MeetingAccess) -> Agency:
    """The chair or the coordinator; the agency the write is recorded for."""
    if not access.may_run:
        raise PermissionDenied(_("Only the chair or the coordinator may do this."))
    return access.acting or access.meeting.coordinator_agency


def _state_check(meeting: CaseMeeting, action: str) -> None:
    """TransitionNotAllowed unless the meeting's state allows the action (MEETING_MACHINE). The meeting's
    row is locked first and its status read again, so that two writes of one meeting (two coordinators,
    or one double tap) run one after the other and the second sees what the first did."""
    meeting.status = CaseMeeting.objects.select_for_update().values_list("status", flat=True).get(pk=meeting.pk)
    MEETING_MACHINE.check(action, meeting)


def _meeting_case(access: MeetingAccess, meeting_case_id: int) -> MeetingCase:
    row = (MeetingCase.objects.select_related("case", "case__data_key")
           .filter(pk=meeting_case_id, meeting=access.meeting).first())
    if row is None or row.case_id not in access.visible:
        raise ValidationError({"meeting_case": [_("Choose a case on this meeting's agenda.")]})
    return row


# --- Scheduling ---------------------------------------------------------------------------------------


@transaction.atomic
def meeting_schedule(*, actor: User, scheduled_for: datetime.datetime, mode: str, place: str, chair: User
                     ) -> CaseMeeting:
    """A new meeting of the actor's coordinating agency, which is invited (and told) at once.
    The chair is a responder or supervisor of that agency."""
    agency = coordinator_agency_for(actor)
    if agency is None:
        raise PermissionDenied(_("Only a supervisor may schedule a case meeting."))
    if not _is_member(chair, agency.pk):
        raise ValidationError({"chair": [_("The chair must be a member of your agency.")]})
    if scheduled_for < timezone.now() - datetime.timedelta(days=1):
        raise ValidationError({"scheduled_for": [_("Choose a date that has not passed.")]})
    meeting = CaseMeeting.objects.create(coordinator_agency=agency, scheduled_for=scheduled_for, mode=mode,
                                         place=place, chair=chair, created_by=actor)
    MeetingInvitation.objects.create(meeting=meeting, agency=agency, invited_by=actor)
    _notify_invited(meeting, agency.pk)
    audit_record(actor=actor, action=AuditAction.CREATE, agency_id=agency.pk, target=f"case_meeting:{meeting.pk}",
                 details={"scheduled_for": scheduled_for.isoformat(), "mode": mode, "chair_id": chair.pk})
    return meeting


def _notify_invited(meeting: CaseMeeting, agency_id: int) -> None:
    notify(recipients=_staff(agency_id), kind=NotificationKind.MEETING_INVITATION, link=meeting_path(meeting.pk),
           params={"due_at": meeting.scheduled_for.isoformat()},
           event_key=f"case_meeting:{meeting.pk}:invited:{agency_id}")


@transaction.atomic
def meeting_case_add(*, access: MeetingAccess, actor: User, case_id: int) -> MeetingCase:
    """Put a case the coordinating agency sees on the agenda, with the reasons it is eligible
    (risk.selectors; none when the coordinator judges a meeting needed without one)."""
    agency = _coordinator_check(access)
    meeting = access.meeting
    _state_check(meeting, "agenda_add")
    # Its own access rows, as its case pages: a consent lets an agency be invited, never reach a case.
    if not agency_case_rows(case_ids=[case_id], agency_ids=[agency.pk]):
        raise ValidationError({"case": [_("Your agency does not see this case.")]})
    if MeetingCase.objects.filter(meeting=meeting, case_id=case_id).exists():
        raise ValidationError({"case": [_("This case is already on the agenda.")]})
    case = Case.objects.get(pk=case_id)
    eligible = cases_eligible_for_meeting(cases=Case.objects.filter(pk=case_id))
    reasons = ",".join(eligible[0].reasons) if eligible else ""
    now = timezone.now()
    row = MeetingCase.objects.create(meeting=meeting, case=case, reasons=reasons, added_by=actor, added_at=now)
    access.visible = {**access.visible, case_id: frozenset({GENERAL})}
    events.meeting_case_added(case_id=case_id, meeting_id=meeting.pk, actor=actor, agency=agency, at=now,
                              scheduled_for=meeting.scheduled_for)
    audit_record(actor=actor, action=AuditAction.CREATE, case_id=case_id, agency_id=agency.pk,
                 target=f"case_meeting:{meeting.pk}", details={"agenda": case_id, "reasons": reasons})
    return row


@transaction.atomic
def meeting_invite(*, access: MeetingAccess, actor: User, agency_id: int) -> MeetingInvitation:
    """Invite an agency an agenda case was handed to, or that a consent in force covers; its
    supervisors and responders are told."""
    coordinator = _coordinator_check(access)
    meeting = access.meeting
    _state_check(meeting, "invite")
    allowed = {row.agency.pk: row.agency for row in agencies_invitable(access=access)}
    if agency_id not in allowed:
        raise ValidationError({"agency": [_("No case on the agenda was handed to this agency, and no consent "
                                            "in force lets it take part.")]})
    if MeetingInvitation.objects.filter(meeting=meeting, agency_id=agency_id).exists():
        raise ValidationError({"agency": [_("This agency is already invited.")]})
    invitation = MeetingInvitation.objects.create(meeting=meeting, agency=allowed[agency_id], invited_by=actor)
    _notify_invited(meeting, agency_id)
    audit_record(actor=actor, action=AuditAction.CREATE, agency_id=coordinator.pk,
                 target=f"case_meeting:{meeting.pk}", details={"invited_agency_id": agency_id})
    return invitation


@transaction.atomic
def meeting_cancel(*, access: MeetingAccess, actor: User, reason: str) -> CaseMeeting:
    agency = _coordinator_check(access)
    meeting = access.meeting
    _state_check(meeting, "cancel")
    meeting_key_ensure(meeting)  # the reason may name a survivor: sealed with the meeting's key
    meeting.status, meeting.cancelled_reason = MeetingStatus.CANCELLED, reason
    meeting.save(update_fields=["status", "cancelled_reason"])
    audit_record(actor=actor, action=AuditAction.CHANGE, agency_id=agency.pk, target=f"case_meeting:{meeting.pk}",
                 details={"status": "cancelled"})
    return meeting


# --- At the meeting ------------------------------------------------------------------------------------


@transaction.atomic
def attendance_record(*, access: MeetingAccess, actor: User, attended: dict[int, bool]) -> int:
    """Who came: {invited agency id: attended}. Returns how many invitations changed."""
    agency = _runner_check(access)
    _state_check(access.meeting, "attendance")
    invited = set(MeetingInvitation.objects.filter(meeting=access.meeting).values_list("agency_id", flat=True))
    unknown = set(attended) - invited
    if unknown:
        raise ValidationError({"attended": [_("Only invited agencies can attend.")]})
    changed = 0
    for agency_id, value in attended.items():
        changed += MeetingInvitation.objects.filter(meeting=access.meeting, agency_id=agency_id).update(
            attended=value)
    audit_record(actor=actor, action=AuditAction.CHANGE, agency_id=agency.pk,
                 target=f"case_meeting:{access.meeting.pk}",
                 details={"attended": {str(k): v for k, v in sorted(attended.items())}})
    return changed


@transaction.atomic
def contribution_add(*, access: MeetingAccess, actor: User, meeting_case_id: int, category: str, text: str,
                     agency_id: int | None = None) -> Contribution:
    """What an invited agency knows of an agenda case, in one category it may see of the case.
    Typed by a member acting for their agency, or by the chair or coordinator for an invited agency
    (then the category must be one the typist's agencies see too)."""
    meeting = access.meeting
    _state_check(meeting, "contribute")
    row = _meeting_case(access, meeting_case_id)
    if agency_id is None or (access.acting is not None and agency_id == access.acting.pk):
        if access.acting is None:
            raise PermissionDenied(_("Choose the agency you act for first."))
        agency: Agency = access.acting
    else:
        _runner_check(access)
        named = Agency.objects.filter(pk=agency_id).first()
        if named is None or not MeetingInvitation.objects.filter(meeting=meeting, agency=named).exists():
            raise ValidationError({"agency": [_("Choose an invited agency.")]})
        agency = named
        if not access.sees(row.case_id, category):
            raise ValidationError({"category": [_("You may not see this category of the case.")]})
    sees = agency_case_categories(case_ids=[row.case_id], agency_ids=[agency.pk]).get((row.case_id, agency.pk))
    if not sees or category not in sees:
        raise ValidationError({"category": [_("This agency may not see this category of the case, so it cannot "
                                              "contribute in it.")]})
    contribution = Contribution.objects.create(meeting_case=row, case=row.case, agency=agency, author=actor,
                                               category=category, text=text)
    audit_record(actor=actor, action=AuditAction.CREATE, case_id=row.case_id, agency_id=agency.pk,
                 categories=[category] if category != GENERAL else [],
                 target=f"meeting_contribution:{contribution.pk}", details={"meeting_id": meeting.pk})
    return contribution


def _latest_minutes(meeting: CaseMeeting, action: str) -> MeetingMinutes:
    """The latest version of the meeting's minutes, locked, if MINUTES_MACHINE lets `action` start from it;
    TransitionNotAllowed otherwise, or when there are no minutes yet."""
    latest = MeetingMinutes.objects.select_for_update().filter(meeting=meeting).order_by("-version").first()
    # No minutes yet is a state no action starts from: the machine refuses it with the action's message.
    MINUTES_MACHINE.check(action, latest or MeetingMinutes(meeting=meeting, status=""))
    assert latest is not None
    return latest


def _draft(meeting: CaseMeeting, actor: User) -> MeetingMinutes:
    """The meeting's draft minutes (version 1 when there is none yet); TransitionNotAllowed when the
    latest version is signed (a correction starts a new draft)."""
    if not MeetingMinutes.objects.filter(meeting=meeting).exists():
        return MeetingMinutes.objects.create(meeting=meeting, version=1, written_by=actor)
    return _latest_minutes(meeting, "decide")


@transaction.atomic
def meeting_hold(*, access: MeetingAccess, actor: User, held_on: datetime.date) -> CaseMeeting:
    """The meeting took place on `held_on`: it counts as the cases' last meeting from now on."""
    agency = _runner_check(access)
    meeting = access.meeting
    _state_check(meeting, "hold")
    if held_on > timezone.localdate():
        raise ValidationError({"held_on": [_("A meeting cannot be held in the future.")]})
    meeting.status, meeting.held_on = MeetingStatus.HELD, held_on
    meeting.save(update_fields=["status", "held_on"])
    _draft(meeting, actor)
    now = timezone.now()
    for case_id in MeetingCase.objects.filter(meeting=meeting).values_list("case_id", flat=True):
        events.meeting_held(case_id=case_id, meeting_id=meeting.pk, actor=actor, agency=agency, at=now,
                            held_on=held_on)
    audit_record(actor=actor, action=AuditAction.CHANGE, agency_id=agency.pk, target=f"case_meeting:{meeting.pk}",
                 details={"status": "held", "held_on": held_on.isoformat()})
    return meeting


@transaction.atomic
def decision_record(*, access: MeetingAccess, actor: User, meeting_case_id: int, text: str) -> MinutesDecision:
    """The decisions about one agenda case in the draft minutes (replacing what the draft said)."""
    agency = _runner_check(access)
    meeting = access.meeting
    _state_check(meeting, "decide")
    row = _meeting_case(access, meeting_case_id)
    minutes = _draft(meeting, actor)
    decision = MinutesDecision.objects.filter(minutes=minutes, case_id=row.case_id).first()
    if decision is None:
        decision = MinutesDecision.objects.create(minutes=minutes, case=row.case, text=text)
    else:
        decision.text = text
        decision.save(update_fields=["text"])
    audit_record(actor=actor, action=AuditAction.CHANGE, case_id=row.case_id, agency_id=agency.pk,
                 target=f"meeting_minutes:{minutes.pk}", details={"decision_id": decision.pk})
    return decision


@transaction.atomic
def minutes_sign(*, access: MeetingAccess, actor: User) -> MeetingMinutes:
    """The chair signs the draft: from now on it never changes."""
    if not access.is_chair:
        raise PermissionDenied(_("Only the chair signs the minutes."))
    meeting = access.meeting
    minutes = _latest_minutes(meeting, "sign")
    now = timezone.now()
    minutes.status, minutes.signed_by, minutes.signed_at = MinutesStatus.SIGNED, actor, now
    minutes.save(update_fields=["status", "signed_by", "signed_at"])
    agency = access.acting or meeting.coordinator_agency
    for case_id in MinutesDecision.objects.filter(minutes=minutes).values_list("case_id", flat=True):
        events.minutes_signed(case_id=case_id, meeting_id=meeting.pk, version=minutes.version, actor=actor,
                              agency=agency, at=now)
    audit_record(actor=actor, action=AuditAction.CHANGE, agency_id=agency.pk, target=f"meeting_minutes:{minutes.pk}",
                 details={"status": "signed", "version": minutes.version})
    return minutes


@transaction.atomic
def minutes_correct(*, access: MeetingAccess, actor: User, reason: str) -> MeetingMinutes:
    """A new draft version of signed minutes, with the reason, its decisions copied to be changed."""
    agency = _runner_check(access)
    meeting = access.meeting
    latest = _latest_minutes(meeting, "correct")
    if not reason.strip():
        raise ValidationError({"reason": [_("Write why the minutes are corrected.")]})
    meeting_key_ensure(meeting)  # the reason may name a survivor: sealed with the meeting's key
    draft = MeetingMinutes.objects.create(meeting=meeting, version=latest.version + 1, correction_reason=reason,
                                          written_by=actor)
    old = MinutesDecision.objects.filter(minutes=latest).select_related("case", "case__data_key")
    MinutesDecision.objects.bulk_create([MinutesDecision(minutes=draft, case=d.case, text=d.text) for d in old])
    # That the minutes were corrected, and which version, never why: the trail is append-only and the
    # reason is text typed about the cases (it is read from the sealed row the event points at).
    audit_record(actor=actor, action=AuditAction.CREATE, agency_id=agency.pk, target=f"meeting_minutes:{draft.pk}",
                 details={"version": draft.version, "corrects": latest.version})
    return draft


# --- Action plan ----------------------------------------------------------------------------------------


@transaction.atomic
def plan_item_add(*, access: MeetingAccess, actor: User, meeting_case_id: int, action: str, owner_agency_id: int,
                  owner_user: User | None, due_at: datetime.datetime) -> ActionPlanItem:
    """A task of a case's plan, with its Deadline: it reminds the owner before `due_at` and
    escalates to the coordinating agency's supervisors after, like a handoff's."""
    agency = _runner_check(access)
    meeting = access.meeting
    _state_check(meeting, "plan_add")
    row = _meeting_case(access, meeting_case_id)
    owner = Agency.objects.filter(pk=owner_agency_id, active=True).first()
    taking_part = owner is not None and (owner.pk == meeting.coordinator_agency_id or MeetingInvitation.objects.filter(
        meeting=meeting, agency=owner).exists())
    if owner is None or not taking_part or not agency_case_categories(case_ids=[row.case_id], agency_ids=[owner.pk]):
        raise ValidationError({"owner_agency": [_("Choose an agency taking part that may see this case.")]})
    if owner_user is not None and not _is_member(owner_user, owner.pk):
        raise ValidationError({"owner_user": [_("The owner must be a member of the owner agency.")]})
    now = timezone.now()
    if due_at <= now:
        raise ValidationError({"due_at": [_("Choose a time in the future.")]})
    item = ActionPlanItem.objects.create(meeting_case=row, case=row.case, action=action, owner_agency=owner,
                                         owner_user=owner_user, due_at=due_at, created_by=actor, created_at=now)
    deadline = deadline_create(kind=Deadline.Kind.ACTION_PLAN, subject=plan_item_subject(item.pk), owner_agency=owner,
                               owner_user=owner_user, escalate_agency=meeting.coordinator_agency, due_at=due_at,
                               start=now, case_id=row.case_id, case_number=row.case.number,
                               link=f"/meetings/plan/{item.pk}/")
    events.deadline_started(deadline=deadline, actor=actor, agency=agency, at=now)
    audit_record(actor=actor, action=AuditAction.CREATE, case_id=row.case_id, agency_id=agency.pk,
                 target=f"plan_item:{item.pk}", details={"owner_agency_id": owner.pk, "due_at": due_at.isoformat()})
    return item


@transaction.atomic
def plan_item_finish(*, actor: User, item_id: int, status: str) -> ActionPlanItem:
    """Done or cancelled, by a member of the owner agency (done) or a supervisor of the
    coordinating agency (either); closes its deadline."""
    item = plan_item_get_for_user(user=actor, item_id=item_id, lock=True)
    if status not in PLAN_ITEM_MACHINE.actions:
        raise ValidationError({"status": [_("Choose done or cancelled.")]})
    transition = PLAN_ITEM_MACHINE.check(status, item)
    rights = plan_item_rights(user=actor, item=item)
    if not rights[transition.right]:
        raise PermissionDenied(_("Only the owner agency marks a plan item done; only the coordinator cancels it."))
    coordinator = item.meeting_case.meeting.coordinator_agency
    now = timezone.now()
    item.status, item.finished_at, item.finished_by = status, now, actor
    item.save(update_fields=["status", "finished_at", "finished_by"])
    agency = item.owner_agency if rights[OWNER] else coordinator
    subject = plan_item_subject(item.pk)
    deadline = Deadline.objects.select_related("owner_agency", "rule").filter(
        subject=subject, kind=Deadline.Kind.ACTION_PLAN, closed_at__isnull=True).first()
    if deadline is not None and deadline_close(subject=subject, reason=f"plan_item:{status}",
                                               kind=Deadline.Kind.ACTION_PLAN):
        reason = DeadlineClosure.MARKED_DONE if status == PlanItemStatus.DONE else DeadlineClosure.PLAN_CANCELLED
        events.deadline_closed(deadline=deadline, reason=reason, actor=actor, agency=agency, at=now)
    audit_record(actor=actor, action=AuditAction.CHANGE, case_id=item.case_id, agency_id=agency.pk,
                 target=f"plan_item:{item.pk}", details={"status": status})
    return item


def meeting_view(*, user: User, meeting_id: int) -> MeetingAccess:
    """The meeting for one of its agencies (NotFound otherwise), with its audit event (the minutes
    and contributions are case content), committed before anything is shown."""
    with transaction.atomic():
        access = meeting_get_for_user(user=user, meeting_id=meeting_id)
        audit_record(actor=user, action=AuditAction.VIEW, agency_id=access.acting.pk if access.acting else None,
                     target=f"case_meeting:{access.meeting.pk}", details={"cases": sorted(access.visible)})
    return access
