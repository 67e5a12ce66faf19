"""Counting time limits on the Vietnamese calendar.

Working days: Monday to Friday, minus the PublicHoliday rows, plus the WeekendWorkday rows (a
Saturday worked in exchange for a bridging day off). The rule for `N working days` from a moment:
take the calendar date of the moment in Asia/Ho_Chi_Minh, step forward one day at a time counting
only working days (the start date itself never counts, whether or not it is a working day), and the
deadline is at the same time of day on the N-th working day found. So a handoff sent on Friday at
19:00 with 3 working days is due on Wednesday at 19:00, and one sent on Friday 13 Feb 2026, the
last working day before Tết, is due at the same time on Wednesday 25 Feb (Mon 16 – Fri 20 are days off).
"""

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Value

from .models import LegalTimeLimit, PublicHoliday, TimeUnit, WeekendWorkday

logger = logging.getLogger(__name__)

# Legal time limits run on Vietnamese time whatever the server's TIME_ZONE.
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class Limit:
    amount: int
    unit: str


# Units only an override may use: no law counts in them, but drills and tests need deadlines that
# pass in minutes or seconds.
DRILL_UNITS = ("minutes", "seconds")
OVERRIDE_UNITS = (*TimeUnit.values, *DRILL_UNITS)


def limit_parse(text: str) -> Limit:
    """Parse an override such as "2 hours", "5 working_days" or, for drills, "3 minutes"."""
    parts = text.split()
    amount = parts[0] if len(parts) == 2 else ""
    # "²" passes str.isdigit() and not int().
    if not (amount.isascii() and amount.isdigit()) or int(amount) <= 0 or parts[1] not in OVERRIDE_UNITS:
        raise ValueError(f"{text!r} is not '<positive whole number> <{'|'.join(OVERRIDE_UNITS)}>'")
    return Limit(amount=int(parts[0]), unit=parts[1])


def time_limit_overrides() -> dict[str, Limit]:
    overrides = {}
    for code, text in getattr(settings, "TIME_LIMIT_OVERRIDES", {}).items():
        try:
            overrides[code] = limit_parse(str(text))
        except ValueError as exc:
            raise ImproperlyConfigured(f"TIME_LIMIT_OVERRIDES[{code}]: {exc}") from exc
    return overrides


def time_limit_effective(*, rule: LegalTimeLimit) -> Limit:
    """The rule's amount and unit, unless the environment overrides them."""
    return time_limit_overrides().get(rule.code) or Limit(amount=rule.amount, unit=rule.unit)


def _days_off(first: datetime.date, last: datetime.date) -> tuple[set[datetime.date], set[datetime.date]]:
    holidays = set(PublicHoliday.objects.filter(date__range=(first, last)).values_list("date", flat=True))
    weekend_workdays = set(WeekendWorkday.objects.filter(date__range=(first, last)).values_list("date", flat=True))
    return holidays, weekend_workdays


DaysOff = Callable[[datetime.date, datetime.date], tuple[set[datetime.date], set[datetime.date]]]


def days_off_preloaded() -> DaysOff:
    """_days_off over the whole calendar read once: for writers of many deadlines at once
    (`manage.py seed_scale`), which would otherwise ask the database for every start day."""
    holidays = set(PublicHoliday.objects.values_list("date", flat=True))
    workdays = set(WeekendWorkday.objects.values_list("date", flat=True))

    def days_off(first: datetime.date, last: datetime.date) -> tuple[set[datetime.date], set[datetime.date]]:
        return ({d for d in holidays if first <= d <= last}, {d for d in workdays if first <= d <= last})

    return days_off


def _working_day_after(day: datetime.date, count: int, days_off: DaysOff | None = None) -> datetime.date:
    # Tết takes at most about ten days in a row, so 2 × count + 21 days nearly always suffices;
    # the loop widens the window when it does not.
    days_off = days_off or _days_off
    span = 2 * count + 21
    holidays, workdays = days_off(day, day + datetime.timedelta(days=span))
    window_end = day + datetime.timedelta(days=span)
    found = 0
    while found < count:
        day += datetime.timedelta(days=1)
        if day > window_end:
            more_holidays, more_workdays = days_off(day, day + datetime.timedelta(days=span))
            holidays |= more_holidays
            workdays |= more_workdays
            window_end = day + datetime.timedelta(days=span)
        if day in workdays or (day.weekday() < 5 and day not in holidays):
            found += 1
    return day


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    next_month_first = datetime.date(year + month // 12, month % 12 + 1, 1)
    return day.replace(year=year, month=month, day=min(day.day, (next_month_first - datetime.timedelta(days=1)).day))


def working_time_add(start: datetime.datetime, *, amount: int, unit: str,
                     days_off: DaysOff | None = None) -> datetime.datetime:
    """The moment `amount` `unit`s after `start` (an aware datetime); see the module docstring.
    `days_off`: the calendar to count on (days_off_preloaded), the database's by default."""
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    if amount < 0:
        raise ValueError("amount must not be negative")
    if unit in DRILL_UNITS:
        return start + datetime.timedelta(**{unit: amount})
    if unit == TimeUnit.HOURS:
        return start + datetime.timedelta(hours=amount)
    if unit == TimeUnit.DAYS:
        return start + datetime.timedelta(days=amount)
    local = start.astimezone(VIETNAM)
    if unit == TimeUnit.WORKING_DAYS:
        day = _working_day_after(local.date(), amount, days_off)
    elif unit == TimeUnit.MONTHS:
        day = _add_months(local.date(), amount)
    else:
        raise ValueError(f"unknown unit {unit!r}")
    return datetime.datetime.combine(day, local.timetz()).astimezone(start.tzinfo)


def is_working_day(day: datetime.date) -> bool:
    if WeekendWorkday.objects.filter(date=day).exists():
        return True
    return day.weekday() < 5 and not PublicHoliday.objects.filter(date=day).exists()


def working_time_add_checked(
    start: datetime.datetime, *, amount: int, unit: str
) -> tuple[datetime.datetime, list[int]]:
    """working_time_add on the database's calendar, and for working days the years counted over that have
    no public holiday loaded (calendar_years_missing), from one read of the calendar (issue 15: a
    handoff sent counted its deadline with four queries): the public holidays of every year the first
    window of _working_day_after touches, and the weekend workdays of that window, in one UNION ALL.
    A count that runs past the window (never for the legal limits) reads the next windows as before."""
    if unit != TimeUnit.WORKING_DAYS or start.tzinfo is None or amount < 0:
        return working_time_add(start, amount=amount, unit=unit), []
    first = start.astimezone(VIETNAM).date()
    last = first + datetime.timedelta(days=2 * amount + 21)
    year_first = datetime.date(min(start.year, first.year), 1, 1)
    year_last = datetime.date(last.year, 12, 31)
    rows = (
        PublicHoliday.objects.filter(date__range=(year_first, year_last)).annotate(day_off=Value(True))
        .values_list("day_off", "date").order_by()
        .union(WeekendWorkday.objects.filter(date__range=(first, last)).annotate(day_off=Value(False))
               .values_list("day_off", "date").order_by(), all=True)
    )
    holidays: set[datetime.date] = set()
    workdays: set[datetime.date] = set()
    for day_off, day in rows:
        (holidays if day_off else workdays).add(day)

    def days_off(since: datetime.date, until: datetime.date) -> tuple[set[datetime.date], set[datetime.date]]:
        if since >= first and until <= last:
            return {d for d in holidays if since <= d <= until}, {d for d in workdays if since <= d <= until}
        return _days_off(since, until)

    due_at = working_time_add(start, amount=amount, unit=unit, days_off=days_off)
    loaded = {day.year for day in holidays}
    missing = [year for year in range(start.year, min(due_at.year, last.year) + 1) if year not in loaded]
    if due_at.year > last.year:
        missing += calendar_years_missing(years=range(last.year + 1, due_at.year + 1))
    return due_at, missing


def calendar_years_missing(*, years: range) -> list[int]:
    """Years without any public holiday loaded: working days there would only skip weekends."""
    loaded = set(PublicHoliday.objects.filter(date__year__in=list(years)).values_list("date__year", flat=True))
    return [year for year in years if year not in loaded]
