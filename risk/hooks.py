"""Where the meeting app tells the risk rules when each case last had a case meeting.

The escalation rule "a new incident within 12 months of the case's last meeting" needs the date of
the last meeting, which the case-meeting app (issue 17, parts 4-5) will own. Until it exists no case
has had a meeting: the default provider answers nothing. The meeting app registers its provider from
its AppConfig.ready() with `last_meeting_provider_set`; risk imports nothing of it.
"""

import datetime
from collections.abc import Callable, Iterable

LastMeetingProvider = Callable[[Iterable[int]], dict[int, datetime.date]]


def _no_meetings(case_ids: Iterable[int]) -> dict[int, datetime.date]:
    return {}


_provider: LastMeetingProvider = _no_meetings


def last_meeting_provider_set(provider: LastMeetingProvider | None) -> None:
    """Register the function that gives {case id: date of its last meeting held} for some case ids
    (None: back to "no meetings")."""
    global _provider
    _provider = provider or _no_meetings


def last_meeting_dates(case_ids: Iterable[int]) -> dict[int, datetime.date]:
    return _provider(case_ids)
