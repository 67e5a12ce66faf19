"""Deadlines of a case: the legal time limits that start when a case is opened for a child, and the
follow-ups and action plans responders set. (A handoff's response deadline belongs to the handoff:
handoffs.services.) The rows live in notifications; this module decides when a case needs one and
when its thing is done.

Subjects are "case:<id>:<rule code>" for a legal limit and "case:<id>:<kind>:<token>" for one a
responder set, so that each deadline closes on its own (notifications.deadline_close works by
subject).

What closes what (a deadline closes when its thing is done):
- child_serious_risk_intervention (12 hours, Decree 56/2017/ND-CP Art. 26): an emergency protection
  measure is logged by any agency on the case: a shelter placement (a safe place), a protection
  order (separation from the abuser) or medical care, the measures Art. 26 names.
- child_support_plan (5 working days, Art. 28): the plan's first step is logged: a follow-up,
  counselling or a school safety plan. HopLuc has no "plan" document; a responder who agrees a plan
  without such an action marks the deadline done.
- a follow-up a responder set: the next follow-up action logged by the owner agency closes the
  earliest one due.
- an action plan a responder set: marked done by its agency.
- all of them: the case is closed. Reopening does not restart the legal limits, which run from the
  first notification.

Each of these deadlines is told on the case's timeline (cases.events): started, closed (met by an
action, marked done, or ended with the case), and, from the sweep, overdue and escalated.
"""

import datetime
import secrets

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from agencies.models import Agency
from audit.models import AuditAction
from audit.services import audit_record
from cases import events
from cases.events import CHILD_SERIOUS_RISK, CHILD_SUPPORT_PLAN, DeadlineClosure
from cases.models import Action, ActionType, Case, RiskLevel
from cases.selectors import CaseAccess
from config.exceptions import NotFound
from notifications.models import Deadline
from notifications.services import deadline_close, deadline_create
from notifications.sight import deadline_sight_annotations
from permissions.categories import CaseRight

from .selectors import CASE_DEADLINE_MACHINE, DONE, case_deadline_may_close, case_deadline_prefix

SERIOUS_RISK_LEVELS = (RiskLevel.HIGH, RiskLevel.SEVERE)


# Action types that do the thing a legal limit asks for (see the module docstring for why).
LEGAL_LIMIT_DONE_BY = {
    CHILD_SERIOUS_RISK: frozenset({ActionType.SHELTER_PLACEMENT, ActionType.PROTECTION_ORDER,
                                   ActionType.MEDICAL_CARE}),
    CHILD_SUPPORT_PLAN: frozenset({ActionType.FOLLOW_UP, ActionType.COUNSELLING, ActionType.SCHOOL_SAFETY_PLAN}),
}


RESPONDER_KINDS = (Deadline.Kind.FOLLOW_UP, Deadline.Kind.ACTION_PLAN)




# A follow-up further away than this is a plan for next year, not a deadline to watch.
MAX_AHEAD = datetime.timedelta(days=366)


def case_path(case_id: int) -> str:
    return f"/cases/{case_id}/"


def _legal_subject(case_id: int, code: str) -> str:
    return f"case:{case_id}:{code}"


def case_legal_deadlines_start(*, case: Case, opened_at: datetime.datetime) -> list[Deadline]:
    """The legal time limits a new case starts, counted from when the case was first handled: for a
    child (under 16 on that day) the support plan, and, when the risk is high or severe, the
    emergency intervention. Owned by the lead agency and the responsible responder; overdue goes to
    the lead's supervisors, then to the province's coordinators. Runs in case_open's transaction."""
    if not case.survivor.is_child_on(timezone.localdate(opened_at)):
        return []
    codes = [CHILD_SUPPORT_PLAN]
    if case.risk_level in SERIOUS_RISK_LEVELS:
        codes.insert(0, CHILD_SERIOUS_RISK)
    deadlines = [
        deadline_create(
            kind=Deadline.Kind.LEGAL_LIMIT, subject=_legal_subject(case.pk, code), owner_agency=case.lead_agency,
            owner_user=case.responsible, rule=code, start=opened_at, case_id=case.pk, case_number=case.number,
            link=case_path(case.pk),
        )
        for code in codes
    ]
    for deadline in deadlines:
        events.deadline_started(deadline=deadline, actor=None, agency=case.lead_agency, at=opened_at)
    return deadlines


def _close(deadline: Deadline, *, code: str, reason: DeadlineClosure, actor: User | None, agency: Agency | None,
           at: datetime.datetime, action: Action | None = None) -> int:
    """Close one case deadline and tell it on the timeline; 0 when it was closed meanwhile."""
    closed = deadline_close(subject=deadline.subject, reason=code)
    if closed:
        events.deadline_closed(deadline=deadline, reason=reason, actor=actor, agency=agency, at=at, action=action)
    return closed


def _open_case_deadlines(case: Case) -> QuerySet[Deadline]:
    return Deadline.objects.filter(
        case_id=case.pk, subject__startswith=case_deadline_prefix(case.pk), closed_at__isnull=True
    ).select_related("owner_agency", "rule")


def case_deadlines_after_action(*, case: Case, action: Action) -> int:
    """Close what the logged action does: a legal limit it satisfies, and the owner agency's
    earliest follow-up when it is a follow-up. Runs in action_log's transaction."""
    subjects = [_legal_subject(case.pk, code) for code, action_types in LEGAL_LIMIT_DONE_BY.items()
                if action.type in action_types]
    done = list(_open_case_deadlines(case).filter(subject__in=subjects).order_by("pk")) if subjects else []
    if action.type == ActionType.FOLLOW_UP:
        follow_up = (
            _open_case_deadlines(case).filter(kind=Deadline.Kind.FOLLOW_UP, owner_agency_id=action.agency_id)
            .order_by("due_at", "pk")
            .first()
        )
        if follow_up is not None:
            done.append(follow_up)
    return sum(
        _close(deadline, code=f"action:{action.pk}", reason=DeadlineClosure.MET_BY_ACTION, actor=action.actor,
               agency=action.agency, at=action.created_at, action=action)
        for deadline in done
    )


def case_deadlines_after_close(*, case: Case, actor: User | None=None, agency: Agency | None = None,
                               at: datetime.datetime | None = None) -> int:
    """A closed case has nothing left due: its legal limits, follow-ups and action plans close.
    (Handoff response deadlines follow their handoff.) Runs in case_change_status's transaction."""
    at = at or timezone.now()
    return sum(
        _close(deadline, code="case closed", reason=DeadlineClosure.CASE_CLOSED, actor=actor, agency=agency, at=at)
        for deadline in _open_case_deadlines(case).order_by("subject", "pk")
    )


@transaction.atomic(durable=True)
def case_deadline_set(*, access: CaseAccess, actor: User, data: dict) -> Deadline:
    """A responder sets a follow-up or an action plan on a case they work on. It is theirs and their
    agency's: the reminder goes to them, overdue to their agency's supervisors, and the escalation
    to the lead agency's supervisors when another agency set it (to the province's coordinators
    otherwise). `data` is validated by deadlines.apis.CaseDeadlineSetApi.InputSerializer."""
    if not access.can(CaseRight.LOG_ACTION):
        raise PermissionDenied
    access.acting_agency()
    now = timezone.now()
    values = data
    case = access.case
    escalate = case.lead_agency if case.lead_agency_id != access.agency.pk else None
    deadline = deadline_create(
        kind=values["kind"], subject=f"{case_deadline_prefix(case.pk)}{values['kind']}:{secrets.token_hex(6)}",
        owner_agency=access.agency, owner_user=actor, escalate_agency=escalate, due_at=values["due_at"], start=now,
        case_id=case.pk, case_number=case.number, link=case_path(case.pk),
    )
    events.deadline_started(deadline=deadline, actor=actor, agency=access.agency, at=now)
    audit_record(actor=actor, action=AuditAction.CREATE, case_id=case.pk, agency_id=access.agency.pk,
                 target=f"deadline:{deadline.pk}",
                 details={"kind": deadline.kind, "due_at": deadline.due_at.isoformat()})
    return deadline


@transaction.atomic(durable=True)
def case_deadline_done(*, access: CaseAccess, actor: User, deadline_id: int) -> Deadline:
    """Mark one of the case's own deadlines done (a legal limit, a follow-up, an action plan); only
    the responders and supervisors of the agency that answers for it may: its owner agency, or, while
    the owner cannot see the case, the agency it escalates to (notifications.sight). A handoff's
    deadline closes with its answer."""
    if not access.can(CASE_DEADLINE_MACHINE[DONE].right):
        raise PermissionDenied
    case = access.case
    now = timezone.now()
    try:
        deadline = Deadline.objects.select_for_update(of=("self",)).annotate(
            **deadline_sight_annotations(now=now)
        ).get(pk=deadline_id, case_id=case.pk, subject__startswith=case_deadline_prefix(case.pk))
    except (Deadline.DoesNotExist, ValueError, TypeError):
        raise NotFound from None
    # As the case page offers it (case_deadline_actions): while acting for the agency that answers for it, its
    # owner or, while the owner cannot see the case, the agency it escalates to.
    agency = access.acting_agency()
    if not case_deadline_may_close(deadline=deadline, user_agency_ids={agency.pk}, case_id=case.pk):
        raise PermissionDenied
    CASE_DEADLINE_MACHINE.check(DONE, deadline)
    _close(deadline, code=f"done:{actor.pk}", reason=DeadlineClosure.MARKED_DONE, actor=actor, agency=agency, at=now)
    deadline.refresh_from_db()
    audit_record(actor=actor, action=AuditAction.CHANGE, case_id=case.pk, agency_id=agency.pk,
                 target=f"deadline:{deadline.pk}", details={"closed": deadline.closed_reason})
    return deadline


def deadline_stage_timeline(sender, *, reached: list[tuple[Deadline, str, datetime.datetime]], **kwargs) -> None:
    """Receiver of notifications.signals.deadline_stage_reached (connected in DeadlinesConfig.ready), once
    per sweep batch: each case deadline that passed, or was escalated, is told on its case's timeline,
    in the sweep's transaction (one query for the cases, one INSERT). Reminders are not: they change
    nothing on the case."""
    told = [
        (deadline, stage, at) for deadline, stage, at in reached
        if stage in (Deadline.Stage.OVERDUE, Deadline.Stage.ESCALATED) and deadline.case_id is not None
        and deadline.subject.startswith(case_deadline_prefix(deadline.case_id))
    ]
    if not told:
        return
    existing = set(Case.objects.filter(pk__in={deadline.case_id for deadline, _stage, _at in told})
                   .values_list("pk", flat=True))
    events.deadline_stages_passed(reached=[entry for entry in told if entry[0].case_id in existing])
