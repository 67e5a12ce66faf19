"""The "my cases" block of the responder home page, which belongs to the accounts app: the
page includes this tag rather than learning how cases are listed and audited."""

from django import template

from ..views import my_cases_page

register = template.Library()

HOME_CASES = 5


@register.inclusion_tag("cases/_my_cases_summary.html", takes_context=True)
def my_cases(context, limit: int = HOME_CASES):
    # The block shows no count: the smallest bound that knows the page.
    _form, page = my_cases_page(context["request"], per_page=limit, count_least=0)
    return {"cases": page.object_list}
