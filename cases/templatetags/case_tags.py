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


def _escaped(text: str) -> str:
    """markupsafe.escape(text) of a plain str, as a str: the same five characters replaced, without the
    Markup object escape makes of each value."""
    return (text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;").replace("'", "&#39;")
            .replace('"', "&#34;"))


@jinja2.pass_environment
def case_card_items(environment, cases, risk, updated, cases_url) -> Markup:
    """The `<li>` cards of cases/_case_cards.html, byte for byte what its loop over `cases` wrote (each
    value shown as `{{ value }}` shows it: the environment's finalize, then escaped), written by one
    f-string per card instead of a dozen template nodes a card (the list page draws 20 a page, the home
    page 5). `risk`, `updated`: the labels, `cases_url`: the list's address, as the template set them."""
    finalize, date = environment.finalize, environment.filters["date"]

    def shown(value) -> str:
        # finalize leaves a str and an int as they are (config.jinja2): escaped without a call through it.
        kind = type(value)
        if kind is str:
            return _escaped(value)
        if kind is int:
            return str(value)
        return escape(finalize(value))

    url, risk, updated = shown(cases_url), shown(risk), shown(updated)
    # Markup of the card's fixed text and escaped values only.
    return Markup("".join([  # noqa: S704
        f'\n  <li>\n    <a href="{url}{shown(case.pk)}/" data-testid="case-link">\n'
        f'      <span class="case-number">{shown(case.number)}</span>\n      <span class="tags">\n'
        f'        <span class="tag status-{shown(case.status)}">{shown(case.get_status_display())}</span>\n'
        f'        <span class="tag risk-{shown(case.risk_level)}">{risk}: {shown(case.get_risk_level_display())}'
        f'</span>\n      </span>\n      <span class="muted small">{shown(case.lead_agency.name)} \u00b7 {updated} '
        f'{shown(date(case.updated_at, "DATETIME_FORMAT"))}</span>\n    </a>\n  </li>\n  '
        for case in cases]))
