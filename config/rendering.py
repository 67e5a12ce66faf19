"""The language and time zone of the page being rendered (config.jinja2's Template.render sets them for
the length of a render): what the filters and the labels of a page's rows read at each value instead of
asking Django's thread-and-task locals (get_language, get_current_timezone) each time."""

import contextvars
import datetime

from django.utils import translation
from django.utils.timezone import get_current_timezone

# (language, time zone) during a render; None outside one.
RENDERING: contextvars.ContextVar[tuple[str | None, datetime.tzinfo] | None] = contextvars.ContextVar(
    "hopluc_rendering", default=None)


def language_and_zone() -> tuple[str | None, datetime.tzinfo]:
    return RENDERING.get() or (translation.get_language(), get_current_timezone())


def active_language() -> str | None:
    """translation.get_language(): during a render, the language the render started in (the same)."""
    state = RENDERING.get()
    return state[0] if state else translation.get_language()
