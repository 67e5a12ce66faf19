"""Reporting months. A report covers one calendar month in Viet Nam's time zone, whatever the
server's clock or the database session's time zone."""

import datetime
import re
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from config.formats import datetime_text

REPORT_TIME_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
_MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """A month that cannot be reported on: malformed, or not over yet."""


def published_at_label(moment: datetime.datetime) -> str:
    """A publication time as people in Viet Nam read it (downloads show local time, not UTC)."""
    return f"{datetime_text(moment)} (UTC+07:00)"


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_add(period: datetime.date, months: int) -> datetime.date:
    index = period.year * 12 + (period.month - 1) + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_last_day(period: datetime.date) -> datetime.date:
    return month_add(period, 1) - datetime.timedelta(days=1)


def month_bounds(period: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The month as a half-open interval of aware datetimes: [first day 00:00, next first day 00:00)
    in Asia/Ho_Chi_Minh. A case opened at 00:30 local time on the 1st is 17:30 UTC on the last day of
    the previous month, and still belongs to the new month."""
    start = datetime.datetime.combine(period, datetime.time.min, tzinfo=REPORT_TIME_ZONE)
    end = datetime.datetime.combine(month_add(period, 1), datetime.time.min, tzinfo=REPORT_TIME_ZONE)
    return start, end


def local_today() -> datetime.date:
    return datetime.datetime.now(tz=REPORT_TIME_ZONE).date()


def last_complete_month(today: datetime.date) -> datetime.date:
    return month_add(month_start(today), -1)


def month_parse(text: str) -> datetime.date:
    """'YYYY-MM' to the first day of that month."""
    match = _MONTH_PATTERN.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise PeriodError(_("%(text)r is not a month in the form YYYY-MM") % {"text": text})
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12 or year < 2000:
        raise PeriodError(_("%(text)r is not a month in the form YYYY-MM") % {"text": text})
    return datetime.date(year, month, 1)


def month_check_complete(period: datetime.date, *, today: datetime.date) -> None:
    """A month is reported on only once it is over: a report of a running month would be
    published, frozen and then contradicted by the rest of the month."""
    if period > last_complete_month(today):
        raise PeriodError(_("%(month)s is not over yet") % {"month": f"{period:%Y-%m}"})


def month_label(period: datetime.date) -> str:
    return f"{period:%Y-%m}"


def dhis2_period(period: datetime.date) -> str:
    return f"{period:%Y%m}"
