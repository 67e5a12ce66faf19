"""The entries of a case's timeline on the case page, written in Python: a case shows a dozen entries
and more, and the template loop's nodes, filters and escapes were a tenth of the page's rendering."""

import jinja2
from markupsafe import Markup, escape

# One entry of cases/_timeline.html's list as its loop wrote it for a case (not `typed`): each value shown
# as `{{ value }}` shows it (the environment's finalize, then escaped); the `{% if %}`s' parts are arguments.
_ENTRY = (
    '\n    <li class="{hidden}">\n      <time datetime="{iso}" class="muted small">{when}</time>\n'
    '      <p>{sentence}</p>\n      {details}\n      {actor}\n    </li>\n    '
)


@jinja2.pass_environment
def timeline_items(environment, timeline) -> Markup:
    """The `<li>` entries of cases/_timeline.html's loop over `timeline` (TimelineEntry, untyped), byte for
    byte, with a format string per entry instead of the loop's nodes."""
    finalize, filters = environment.finalize, environment.filters
    date, linebreaksbr = filters["date"], filters["linebreaksbr"]

    def shown(value) -> str:
        return escape(finalize(value))

    entries = []
    for entry in timeline:
        details, actor = entry.details, entry.actor
        entries.append(_ENTRY.format(
            hidden="hidden-entry" if entry.hidden else "", iso=shown(date(entry.at, "c")),
            when=shown(date(entry.at, "DATETIME_FORMAT")), sentence=shown(entry.sentence),
            details=f'<p class="details">{shown(linebreaksbr(details))}</p>' if details else "",
            actor=f'<p class="muted small">{shown(actor)}</p>' if actor else "",
        ))
    # Markup of the entry's fixed text and escaped values only.
    return Markup("".join(entries))  # noqa: S704
