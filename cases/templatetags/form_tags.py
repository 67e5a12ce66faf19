"""Form helpers for the templates: pick fields of a form by name, so that a page renders a run of them with
one loop over cases/_field.html instead of one include per field."""

from django import template

register = template.Library()


@register.filter
def fields(form, names: str) -> list:
    """The bound fields of `form` (a form, or a mapping of names to bound fields) named in `names`,
    separated by spaces, in that order."""
    return [form[name] for name in names.split()]
