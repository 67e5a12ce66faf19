from itertools import groupby

from django import template

from reports.periods import local_today, month_add, month_start
from reports.selectors import monthly_report_list_visible_to, report_reader_for_user

register = template.Library()

MONTHS_ON_HOME = 24


@register.inclusion_tag("reports/_report_list.html", takes_context=True)
def monthly_report_list(context):
    """The signed-in analyst's reports, newest month first: the national report and the provinces
    they may read. Renders nothing useful for anyone else (the page itself refuses them)."""
    user = context["request"].user
    if report_reader_for_user(user=user) is None:
        return {"months": []}
    # Enough months to fill the page, not every report ever published.
    since = month_add(month_start(local_today()), -(MONTHS_ON_HOME + 1))
    reports = list(monthly_report_list_visible_to(user=user).filter(period__gte=since))
    months = []
    for period, items in groupby(reports, key=lambda r: r.period):
        items = list(items)
        months.append({
            "period": period,
            "national": next((r for r in items if r.province_id is None), None),
            "provinces": [r for r in items if r.province_id is not None],
        })
        if len(months) == MONTHS_ON_HOME:
            break
    return {"months": months}
