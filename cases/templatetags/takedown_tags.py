"""The takedown block of the case page: the case's requests the viewer may read, their outcome,
and the forms to record a request and an outcome."""

from django import template

from permissions.categories import CaseRight

from ..models import TakedownOutcome
from ..takedowns import takedown_list_for_case

register = template.Library()


@register.inclusion_tag("takedowns/_case_takedowns.html", takes_context=True)
def case_takedowns(context):
    access = context["access"]
    return {
        "case": access.case,
        "takedowns": list(takedown_list_for_case(access=access)),
        "can_record": access.can(CaseRight.LOG_ACTION) and access.agency is not None,
        "outcomes": TakedownOutcome.choices,
        "csrf_token": context.get("csrf_token"),
    }
