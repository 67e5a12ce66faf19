"""A case's deadlines, read: the open ones the viewer sees on the case, and what they may do with
one (CASE_DEADLINE_MACHINE, the table the services check too). Writes: deadlines.services."""

import datetime

from django.db.models import BigIntegerField, CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.selectors import CaseAccess, case_page_has_none
from cases.transitions import StateMachine, transition
from config.compiled import CompiledModels
from notifications.models import Deadline
from notifications.sight import deadline_answering_agency_id, deadline_sight_annotations
from permissions.categories import CaseRight

# What a person does with a case deadline (cases.transitions): mark it done while it is open. The
# stages in between (reminded, overdue, escalated) are the sweep's (notifications.services), and
# deadline_close also closes a deadline when its thing is done elsewhere (an action, an answer).
DONE = "done"
CASE_DEADLINE_MACHINE = StateMachine(
    field="stage", states=tuple(Deadline.Stage.values),
    transitions=(
        transition(DONE, [stage for stage in Deadline.Stage.values if stage != Deadline.Stage.CLOSED],
                   Deadline.Stage.CLOSED, CaseRight.LOG_ACTION),
    ),
    wrong_state=lambda deadline: _("This deadline is closed already."), error_key="deadline",
)


def deadline_is_overdue(deadline: Deadline, *, now: datetime.datetime | None = None) -> bool:
    """Whether a deadline is past its time and still open: the case page's mark and the API's `overdue`
    (a handoff's own response deadline: handoffs.selectors.handoff_is_overdue)."""
    return deadline.closed_at is None and deadline.due_at <= (now or timezone.now())


def case_deadline_prefix(case_id: int) -> str:
    return f"case:{case_id}:"


def _case_deadlines(case_id: int, now: datetime.datetime, agency_id: int | None = None) -> QuerySet[Deadline]:
    # The case's own deadlines are those whose subject starts "case:<id>:" (case_deadline_prefix), the
    # prefix written from the id in SQL: the id stays a parameter of a query compiled once.
    id_text = Cast(Value(case_id, output_field=BigIntegerField()), CharField())
    own = Q(subject__startswith=Concat(Value("case:"), id_text, Value(":")))
    if agency_id is not None:
        own |= Q(owner_agency_id=agency_id) | Q(escalate_agency_id=agency_id)
    return (
        Deadline.objects.filter(own, case_id=case_id, closed_at__isnull=True)
        .select_related("owner_agency", "owner_user", "rule")
        # Who answers for each now (case_deadline_actions): its owner, or the agency it escalates to.
        .annotate(**deadline_sight_annotations(now=now))
        .order_by("due_at", "pk")
    )


def case_deadline_list(*, access: CaseAccess) -> QuerySet[Deadline]:
    """Open deadlines shown on the case: its own (legal limits, follow-ups, action plans) and the
    response deadlines of handoffs the viewer's agency answers or sent. Another agency's handoffs
    are not the viewer's business."""
    return _case_deadlines(access.case.pk, timezone.now(), access.agency.pk if access.agency is not None else None)


_CASE_DEADLINES = CompiledModels(_case_deadlines, case_id="int", now="datetime")
# The case page's probe of the open deadlines it shows (cases.selectors.case_page_probe_register, deadlines.apps):
# every open deadline of the case, a superset of case_deadline_list's for any viewer.
DEADLINES_PANEL = "open_deadlines"


def case_open_deadlines(case_id: int) -> QuerySet[Deadline]:
    return Deadline.objects.filter(case_id=case_id, closed_at__isnull=True)


_CASE_DEADLINES_OF_AGENCY = CompiledModels(_case_deadlines, case_id="int", now="datetime", agency_id="int")


def case_deadlines_shown(*, access: CaseAccess) -> list[Deadline]:
    """case_deadline_list's rows, read once for this access (a query compiled once): the case page's
    coordination panel lists them and its risk panel finds the open risk review among them (a case
    deadline: case_risk_review)."""
    if "deadlines" not in access.shared_reads:
        if case_page_has_none(access, DEADLINES_PANEL):
            # The case page's statement found no open deadline on the case (cases.selectors): none read.
            rows = []
        elif access.agency is None:
            rows = _CASE_DEADLINES.objects(case_id=access.case.pk, now=timezone.now(), model=Deadline)
        else:
            rows = _CASE_DEADLINES_OF_AGENCY.objects(case_id=access.case.pk, now=timezone.now(),
                                                     agency_id=access.agency.pk, model=Deadline)
        access.shared_reads["deadlines"] = rows
    return access.shared_reads["deadlines"]


def case_risk_review(*, access: CaseAccess) -> Deadline | None:
    """The case's open risk review among case_deadlines_shown (the one due first), as
    risk.selectors.risk_review_open reads it: no query of its own on the case page."""
    prefix = f"{case_deadline_prefix(access.case.pk)}risk_review:"
    return next((deadline for deadline in case_deadlines_shown(access=access)
                 if deadline.kind == Deadline.Kind.RISK_REVIEW and deadline.subject.startswith(prefix)), None)


def case_deadline_actions(*, access: CaseAccess, deadline: Deadline) -> list[str]:
    """What the viewer may do with one of the case's deadlines now (CASE_DEADLINE_MACHINE): the
    case page's buttons and the API's allowed_actions. Only a case deadline the agency they act for
    answers for; a handoff's deadline closes with its answer."""
    if access.agency is None or not case_deadline_may_close(
            deadline=deadline, user_agency_ids={access.agency.pk}, case_id=access.case.pk):
        return []
    return CASE_DEADLINE_MACHINE.available(deadline, may=access.can)


def case_deadline_may_close(*, deadline: Deadline, user_agency_ids: set[int], case_id: int) -> bool:
    """Whether the deadline is a case deadline one of the user's agencies answers for now
    (notifications.sight, from the deadline's sight annotations: _case_deadlines): its owner agency, or,
    while the owner cannot see the case (a referral's consent withdrawn or expired), the agency it
    escalates to (the lead, for a follow-up another agency set). A deadline read without them, the one
    case_deadline_set has just written for the agency acting on the case, is its owner's."""
    answering = deadline_answering_agency_id(deadline) if hasattr(deadline, "owner_sees") else deadline.owner_agency_id
    return deadline.subject.startswith(case_deadline_prefix(case_id)) and answering in user_agency_ids
