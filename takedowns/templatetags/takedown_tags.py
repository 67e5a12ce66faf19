"""The takedown block of the case page: the case's requests the viewer may read, their outcome,
and the forms to record a request and an outcome."""

from django import template

from permissions.categories import CaseRight
from takedowns.models import TakedownOutcome

from ..selectors import takedown_actions, takedowns_for_case_page

register = template.Library()


@register.inclusion_tag("takedowns/_case_takedowns.html", takes_context=True)
def case_takedowns(context):
    access = context["access"]
    takedowns = takedowns_for_case_page(access=access)
    for takedown in takedowns:
        allowed = takedown_actions(access=access, takedown=takedown)
        takedown.outcome_choices = [(value, label) for value, label in TakedownOutcome.choices if value in allowed]
    return {
        "case": access.case,
        "takedowns": takedowns,
        "can_record": access.can(CaseRight.LOG_ACTION) and access.agency is not None,
        "csrf_token": context.get("csrf_token"),
    }
