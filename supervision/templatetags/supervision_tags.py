"""Template filters of the supervision pages."""

import datetime

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import RiskLevel
from permissions.categories import DataCategory

from ..models import DeadlineState

register = template.Library()

DEADLINE_LABELS = dict(DeadlineState.choices)
MILESTONE_LABELS = {
    "sent": gettext_lazy("Sent"),
    "viewed": gettext_lazy("First viewed"),
    "accepted": gettext_lazy("Accepted"),
    "declined": gettext_lazy("Declined"),
    "first_action": gettext_lazy("First action by the receiving agency"),
    "completed": gettext_lazy("Completed"),
    "withdrawn": gettext_lazy("Withdrawn"),
    "review_fine": gettext_lazy("Reviewed: fine"),
    "review_concern": gettext_lazy("Reviewed: concern"),
    "review_follow_up_needed": gettext_lazy("Reviewed: follow-up needed"),
}


@register.filter
def duration(value: datetime.timedelta | None) -> str:
    """2 h 05 min, 3 d 4 h, 12 min; a dash for a step that has not happened."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}


@register.filter
def deadline_label(value: str) -> str:
    return str(DEADLINE_LABELS.get(value, value))


@register.filter
def milestone_label(value: str) -> str:
    return str(MILESTONE_LABELS.get(value, value))


@register.filter
def category_labels(values) -> str:
    """Data category codes as their names, in the vocabulary's order; a dash for none."""
    chosen = set(values or ())
    return ", ".join(str(label) for value, label in DataCategory.choices if value in chosen) or "—"


@register.filter
def risk_level_label(value: str) -> str:
    """The reader's-language name of a risk level code ("high")."""
    return str(dict(RiskLevel.choices).get(value, value))
