"""Handoff blocks of other apps' pages: the handoffs and open deadlines of a case on the case page,
and the handoffs waiting for an answer on the responder home. The pages include these tags rather
than learning how handoffs and deadlines are selected."""

import jinja2
from django import template
from django.utils import timezone
from markupsafe import Markup, escape

from cases.selectors import case_page_has_none
from deadlines.selectors import DONE, case_deadline_actions, case_deadlines_shown, deadline_is_overdue
from handoffs.models import HANDOFF_PANEL, HandoffStatus
from permissions.categories import CaseRight

from ..selectors import handoff_is_overdue, handoff_list_for_user, handoffs_for_case_page

register = template.Library()


@register.inclusion_tag("handoffs/_case_coordination.html", takes_context=True)
def case_coordination(context):
    access = context["access"]
    case = access.case
    now = timezone.now()
    # None read when the case page's statement found that the case has no handoff (cases.selectors).
    handoffs = [] if case_page_has_none(access, HANDOFF_PANEL) else handoffs_for_case_page(case=case,
                                                                                           agency=access.agency)
    for handoff in handoffs:
        handoff.overdue = handoff_is_overdue(handoff, now=now)
    deadlines = case_deadlines_shown(access=access)
    can_log = access.can(CaseRight.LOG_ACTION)
    for deadline in deadlines:
        deadline.overdue = deadline_is_overdue(deadline, now=now)
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


# One card of handoffs/_handoff_cards.html's list, as its loop wrote it (each value shown as `{{ value }}`
# shows it: the environment's finalize, then escaped); the parts its `{% if %}`s choose are the arguments.
_HANDOFF_CARD = (
    '\n  <li{overdue_class}>\n    <a href="{url}" data-testid="handoff-link-{pk}">\n'
    '      <span class="case-number">{number}</span>\n      <span class="tags">\n'
    '        <span class="tag handoff-{status}">{status_label}</span>\n'
    '        <span class="tag urgency-{urgency}">{urgency_label}</span>\n'
    '        {overdue_tag}\n      </span>\n      <span class="muted small">{other_side} {agency}</span>\n'
    '      <span class="small">{when_label} <time datetime="{iso}">{when}</time></span>\n    </a>\n  </li>\n  '
)


@jinja2.pass_environment
def handoff_card_items(environment, handoffs, direction, overdue, answer_due, sent, other_side) -> Markup:
    """The `<li>` cards of handoffs/_handoff_cards.html, byte for byte what its loop over `handoffs`
    wrote, with a format string per card instead of a score of template nodes a card (the incoming and
    outgoing pages draw 20 a page). The labels (`overdue` … `other_side`) as the template set them."""
    finalize, date = environment.finalize, environment.filters["date"]

    def shown(value) -> str:
        return escape(finalize(value))

    overdue_tag = f'<span class="tag risk-severe" data-testid="overdue">{shown(overdue)}</span>'
    answer_due, sent, other_side = shown(answer_due), shown(sent), shown(other_side)
    incoming = direction == "incoming"
    cards = []
    for handoff in handoffs:
        late = bool(handoff.overdue)
        waiting = handoff.status == "sent"
        moment = handoff.due_at if waiting else handoff.sent_at
        cards.append(_HANDOFF_CARD.format(
            overdue_class=' class="overdue"' if late else "", url=shown(handoff.page_url), pk=shown(handoff.pk),
            number=shown(handoff.case.number), status=shown(handoff.status),
            status_label=shown(handoff.get_status_display()), urgency=shown(handoff.urgency),
            urgency_label=shown(handoff.get_urgency_display()), overdue_tag=overdue_tag if late else "",
            other_side=other_side, agency=shown((handoff.from_agency if incoming else handoff.to_agency).name),
            when_label=answer_due if waiting else sent, iso=shown(date(moment, "c")),
            when=shown(date(moment, "DATETIME_FORMAT")),
        ))
    # Markup of the card's fixed text and escaped values only.
    return Markup("".join(cards))  # noqa: S704
