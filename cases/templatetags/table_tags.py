"""Table helpers for the templates: the column headings of a table from its labels, in one tag."""

from django import template

register = template.Library()


@register.inclusion_tag("_column_heads.html")
def column_heads(*labels: str) -> dict:
    """`<thead>` with one column heading per label: {% column_heads _("Case") _("Due") %}."""
    return {"labels": labels}
