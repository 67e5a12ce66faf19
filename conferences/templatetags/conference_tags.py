"""The case page's action-plan panel: the case's plan from every meeting and what is overdue. The
cases app's template loads it; cases imports nothing of conferences."""

from django import template
from django.utils import timezone

from cases.selectors import case_page_has_none

from ..models import PLAN_PANEL
from ..selectors import plan_item_overdue, plan_items_for_case

register = template.Library()


@register.inclusion_tag("conferences/_plan_panel.html")
def plan_panel(access):
    now = timezone.now()
    # None read when the case page's statement found that the case has no plan item (cases.selectors).
    found = [] if case_page_has_none(access, PLAN_PANEL) else plan_items_for_case(case_id=access.case.pk)
    items = [{"item": item, "overdue": plan_item_overdue(item, now)} for item in found]
    return {"items": items, "overdue_count": sum(1 for row in items if row["overdue"])}
