"""Handoff blocks of other apps' pages: the handoffs and open deadlines of a case on the case page,
and the handoffs waiting for an answer on the responder home. The pages include these tags rather
than learning how handoffs and deadlines are selected."""

from django import template
from django.utils import timezone

from deadlines.selectors import DONE, case_deadline_actions, case_deadlines_shown
from handoffs.models import HandoffStatus
from permissions.categories import CaseRight

from ..selectors import handoff_is_overdue, handoff_list_for_user, handoffs_for_case_page

register = template.Library()


@register.inclusion_tag("handoffs/_case_coordination.html", takes_context=True)
def case_coordination(context):
    access = context["access"]
    case = access.case
    now = timezone.now()
    handoffs = handoffs_for_case_page(case=case, agency=access.agency)
    for handoff in handoffs:
        handoff.overdue = handoff_is_overdue(handoff, now=now)
    deadlines = case_deadlines_shown(access=access)
    can_log = access.can(CaseRight.LOG_ACTION)
    for deadline in deadlines:
        deadline.overdue = deadline.due_at <= now
        deadline.may_close = DONE in case_deadline_actions(access=access, deadline=deadline)
    return {
        "case": case, "handoffs": handoffs, "deadlines": deadlines, "request": context.get("request"),
        "can_send": access.can(CaseRight.MANAGE_SHARING) and access.agency is not None,
        "can_set_deadline": can_log and access.agency is not None,
        "csrf_token": context.get("csrf_token"),
    }


HOME_HANDOFFS = 5


@register.inclusion_tag("handoffs/_home_incoming.html", takes_context=True)
def incoming_handoffs(context, limit: int = HOME_HANDOFFS):
    """The responder home's "waiting for an answer" block: the oldest unanswered handoffs to the
    user's agencies first, so that the most pressing is on top."""
    user = context["request"].user
    now = timezone.now()
    handoffs = list(
        handoff_list_for_user(user=user, direction="incoming", status=HandoffStatus.SENT).order_by("due_at", "id")[
            :limit
        ]
    )
    for handoff in handoffs:
        handoff.overdue = handoff_is_overdue(handoff, now=now)
    return {"handoffs": handoffs}
