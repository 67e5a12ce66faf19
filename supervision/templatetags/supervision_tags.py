"""Template filters of the supervision pages."""

import datetime
from html import escape

from django import template
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.formats import get_format
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

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


# One handoff of the register (supervision/register.html): the markup of a row, written once here and
# filled for each row in Python. As a template it cost the page about 8 ms of its CPU for 50 rows (forty
# variables, filters and tags a row); here, well under 2 ms.
_REGISTER_ROW = (
    '<li><a href="{url}{query}" data-testid="handoff-{pk}">\n'
    '      <span class="head-row"><span class="case-number">{number}</span>\n'
    '        <span class="tags">\n'
    '          <span class="tag">{status}</span>\n'
    '          <span class="tag{urgency_class}">{urgency}</span>\n'
    '          <span class="tag deadline-{deadline_state}">{deadline}</span>\n'
    '          {overdue}\n'
    '          {override}\n'
    '          {reviewed}\n'
    '        </span></span>\n'
    '      <span>{direction} {counterpart}</span>\n'
    '      <span class="small muted">{sent} <time datetime="{sent_iso}">{sent_at}</time> · {due} {due_at}</span>\n'
    '      <span class="small">{times}</span>\n'
    '      {declined}\n'
    '      {handed}\n'
    '    </a></li>\n'
)
_URGENCY_CLASSES = {"emergency": " risk-severe", "urgent": " risk-high"}




@register.simple_tag
def id_url_prefix(url_name: str) -> str:
    """What the address of every object of `url_name` (whose one argument is an id, last) starts with: the
    address of object 7 is the prefix, "7" and "/". One reverse() for a list, not one a row."""
    url = reverse(url_name, args=[0])
    if not url.endswith("/0/"):
        raise ValueError(f"{url_name}: the id is not the last part of {url}")
    return url[:-2]


@register.simple_tag
def register_rows(rows, *, more_than: int, agency_query: str) -> SafeString:
    """The register page's rows (selectors.RegisterRow), each as _REGISTER_ROW, every value escaped as the
    template escaped it (html.escape is what django.utils.html.escape calls, without its lazy-text wrapper
    that cost as much as the escaping)."""
    url = id_url_prefix("supervision:handoff")
    query = escape(f"?{agency_query}") if agency_query else ""
    overdue = f'<span class="tag risk-severe" data-testid="overdue">{escape(_("Overdue"))}</span>'
    override = f'<span class="tag risk-severe">{escape(_("Consent override"))}</span>'
    reviewed = f'<span class="tag status-open">{escape(_("Reviewed"))}</span>'
    to, from_, sent, due = escape(_("To")), escape(_("From")), escape(_("Sent")), escape(_("due"))
    declined = _("Declined:")
    shown_format = get_format("DATETIME_FORMAT")  # what |date:"DATETIME_FORMAT" looks up for each value
    viewed_after, answered_after = _("Viewed after"), _("answered after")
    first_action_after, completed_after = _("first action after"), _("completed after")

    def row(h) -> str:
        # As the template's |date filter: in the current time zone; "c" is the ISO format.
        sent_at, due_at = template_localtime(h.sent_at), template_localtime(h.due_at)
        times = (f"{viewed_after} {duration(h.to_view)} · {answered_after} {duration(h.to_answer)} · "
                 f"{first_action_after} {duration(h.to_first_action)}")
        if h.to_completion:
            times += f" · {completed_after} {duration(h.to_completion)}"
        reason = h.decline_reason
        handed = ngettext("Case handed on %(n)s time", "Case handed on %(n)s times", h.case_handoffs) % {
            "n": h.case_handoffs} if h.case_handoffs > more_than else ""
        return _REGISTER_ROW.format(
            url=f"{url}{int(h.pk)}/", query=query, pk=int(h.pk), number=escape(h.case_number),
            status=escape(h.status_label()),
            urgency_class=_URGENCY_CLASSES.get(h.urgency, ""), urgency=escape(h.urgency_label()),
            deadline_state=escape(h.deadline_state), deadline=escape(deadline_label(h.deadline_state)),
            overdue=overdue if h.overdue else "", override=override if h.emergency_override else "",
            reviewed=reviewed if h.review_verdict else "",
            direction=to if h.direction == "sent" else from_, counterpart=escape(h.counterpart), sent=sent,
            sent_iso=escape(sent_at.isoformat()), sent_at=escape(date_format(sent_at, shown_format)),
            due=due, due_at=escape(date_format(due_at, shown_format)), times=escape(times),
            declined=f'<span class="small">{escape(declined)} {escape(reason)}</span>' if reason else "",
            handed=f'<span class="small">{escape(handed)}</span>' if handed else "",
        )

    return SafeString("    ".join(row(h) for h in rows))
