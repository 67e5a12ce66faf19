"""The "my cases" block of the responder home page, which belongs to the accounts app: the
page includes this tag rather than learning how cases are listed and audited."""

import jinja2
from django import template
from markupsafe import Markup, escape

from ..views import my_cases_page

register = template.Library()

HOME_CASES = 5


@register.inclusion_tag("cases/_my_cases_summary.html", takes_context=True)
def my_cases(context, limit: int = HOME_CASES):
    # The block shows no count: the smallest bound that knows the page.
    _form, page = my_cases_page(context["request"], per_page=limit, count_least=0)
    return {"cases": page.object_list}


# One card of cases/_case_cards.html's list, as its loop wrote it (each value shown as `{{ value }}` shows
# it: the environment's finalize, then escaped).
_CASE_CARD = (
    '\n  <li>\n    <a href="{url}{pk}/" data-testid="case-link">\n      <span class="case-number">{number}</span>\n'
    '      <span class="tags">\n        <span class="tag status-{status}">{status_label}</span>\n'
    '        <span class="tag risk-{risk_level}">{risk}: {risk_label}</span>\n      </span>\n'
    '      <span class="muted small">{agency} \u00b7 {updated} {updated_at}</span>\n    </a>\n  </li>\n  '
)


@jinja2.pass_environment
def case_card_items(environment, cases, risk, updated, cases_url) -> Markup:
    """The `<li>` cards of cases/_case_cards.html, byte for byte what its loop over `cases` wrote, with
    a format string per card instead of a dozen template nodes a card (the list page draws 20 a page,
    the home page 5). `risk`, `updated`: the labels, `cases_url`: the list's address, as the template
    set them."""
    finalize, date = environment.finalize, environment.filters["date"]

    def shown(value) -> str:
        return escape(finalize(value))

    url, risk, updated = shown(cases_url), shown(risk), shown(updated)
    # Markup of the card's fixed text and escaped values only.
    return Markup("".join([_CASE_CARD.format(  # noqa: S704
        url=url, pk=shown(case.pk), number=shown(case.number), status=shown(case.status),
        status_label=shown(case.get_status_display()), risk_level=shown(case.risk_level), risk=risk,
        risk_label=shown(case.get_risk_level_display()), agency=shown(case.lead_agency.name), updated=updated,
        updated_at=shown(date(case.updated_at, "DATETIME_FORMAT")),
    ) for case in cases]))
