"""The case page's action-plan panel: the case's plan from every meeting and what is overdue. The
cases app's template loads it; cases imports nothing of conferences."""

from django import template
from django.utils import timezone

from ..selectors import plan_item_overdue, plan_items_for_case

register = template.Library()


@register.inclusion_tag("conferences/_plan_panel.html")
def plan_panel(access):
    now = timezone.now()
    items = [{"item": item, "overdue": plan_item_overdue(item, now)} for item in plan_items_for_case(
        case_id=access.case.pk)]
    return {"items": items, "overdue_count": sum(1 for row in items if row["overdue"])}
