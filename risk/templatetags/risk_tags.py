"""The case page's risk panel: the latest level, its date, who assessed, the history, a review due,
and the buttons the viewer may use. The cases app's template loads it; cases imports nothing of risk."""

from django import template

from deadlines.selectors import case_risk_review
from permissions.categories import CaseRight

from ..models import ASSESSMENT_CATEGORY
from ..selectors import assessment_history_and_draft

register = template.Library()


@register.inclusion_tag("risk/_panel.html", takes_context=True)
def risk_panel(context, access):
    user = context["request"].user
    history, draft = assessment_history_and_draft(access=access, user=user)
    may_record = (access.can(CaseRight.LOG_ACTION) and access.agency is not None
                  and access.writes(ASSESSMENT_CATEGORY))
    return {
        "case": access.case,
        "latest": history[0] if history else None,
        "history": history,
        # Among the case's open deadlines, which the coordination panel lists too (one read for both).
        "review": case_risk_review(access=access),
        "draft": draft if may_record else None,
        "may_record": may_record,
        "may_request_review": access.can(CaseRight.LOG_ACTION),
        "sees_answers": access.sees(ASSESSMENT_CATEGORY),
        "csrf_token": context.get("csrf_token"),
    }
