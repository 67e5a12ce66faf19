"""Writes of the reference data deadlines are counted with: time limits and the working-day calendar.

Each loader checks its whole input first (notifications.reference_data) and writes nothing when
anything is wrong; running it again with the same input changes nothing.
"""

from pathlib import Path

import holidays as holidays_package
from django.db import transaction
from django.utils.translation import gettext as _

from agencies.services import LoadCounts

from .models import HolidayRemoval, LegalTimeLimit, PublicHoliday, WeekendWorkday
from .reference_data import TIME_LIMITS_FILE, calendar_records_parse, time_limit_records_read


def time_limit_load_reference(*, path: Path = TIME_LIMITS_FILE, model=LegalTimeLimit) -> LoadCounts:
    """Create or update the time limits of the file, matched by code. `model` lets the data
    migration pass its historical model."""
    records = time_limit_records_read(path=path)
    created = updated = unchanged = 0
    with transaction.atomic():
        stored = {row.code: row for row in model.objects.all()}
        for record in records:
            values = {key: getattr(record, key) for key in ("description", "limit_type", "amount", "unit", "source")}
            row = stored.get(record.code)
            if row is None:
                model.objects.create(code=record.code, **values)
                created += 1
            elif any(getattr(row, key) != value for key, value in values.items()):
                model.objects.filter(pk=row.pk).update(**values)
                updated += 1
            else:
                unchanged += 1
    return LoadCounts(created=created, updated=updated, unchanged=unchanged)


@transaction.atomic
def holiday_load_from_package(*, years: range, holiday_model=None, workday_model=None, removal_model=None,
                              using: str = "default") -> LoadCounts:
    """Add Viet Nam's public holidays of the `holidays` package, with its days in lieu and the
    Saturdays worked in exchange. Stored days are never changed, and days an administrator removed
    (HolidayRemoval) are never added back, so corrections made by CSV import or in the admin survive
    every reload. The models can be a data migration's historical ones."""
    holiday_model = holiday_model or PublicHoliday
    workday_model = workday_model or WeekendWorkday
    removal_model = removal_model or HolidayRemoval
    years = range(years.start, years.stop)
    observed = holidays_package.country_holidays("VN", years=years, language="vi")
    plain = holidays_package.country_holidays("VN", years=years, observed=False)
    english = holidays_package.country_holidays("VN", years=years, language="en_US")
    # A bridging day off given in exchange for a worked Saturday is named "Day off (substituted …)".
    substituted = {day for day, name in english.items() if "substituted" in name.lower()}
    holidays = holiday_model.objects.using(using)
    existing = set(holidays.filter(date__year__in=list(years)).values_list("date", flat=True))
    removed = set(removal_model.objects.using(using).filter(date__year__in=list(years)).values_list("date", flat=True))
    new = [
        holiday_model(date=day, name=name[:150], is_compensatory=day not in plain or day in substituted)
        for day, name in sorted(observed.items())
        if day not in existing and day not in removed
    ]
    holidays.bulk_create(new)
    swaps = [day for day in observed.weekend_workdays if day.year in years]
    workdays = workday_model.objects.using(using)
    existing_swaps = set(workdays.filter(date__in=swaps).values_list("date", flat=True))
    workdays.bulk_create(
        [workday_model(date=day, name=_("Working day in exchange for a day off")) for day in swaps
         if day not in existing_swaps]
    )
    added = len(new) + len(swaps) - len(existing_swaps)
    return LoadCounts(created=added, updated=0, unchanged=len(existing) + len(existing_swaps))


def calendar_years_parse(text: str) -> range:
    """ "2024-2032" or "2026" as a range of years; "" as none."""
    text = text.strip()
    if not text:
        return range(0)
    first, _sep, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


@transaction.atomic
def calendar_import_csv(*, text: str) -> LoadCounts:
    """Apply official calendar decisions (see reference_data.calendar_records_parse): every row is
    checked first, then all are written; re-importing the same file changes nothing."""
    records = calendar_records_parse(text=text)
    days = [record.date for record in records]
    holidays = {row.date: row for row in PublicHoliday.objects.filter(date__in=days)}
    workdays = {row.date: row for row in WeekendWorkday.objects.filter(date__in=days)}
    created = updated = unchanged = 0
    for record in records:
        if record.type == "working_day":
            wanted_holiday = None
            # A weekday that is worked needs no row once its holiday is gone; a weekend day does.
            wanted_workday = record.name if record.date.weekday() >= 5 else None
        else:
            wanted_holiday, wanted_workday = (record.name, record.type == "day_off_in_lieu"), None
        holiday, workday = holidays.get(record.date), workdays.get(record.date)
        current = ((holiday.name, holiday.is_compensatory) if holiday else None, workday.name if workday else None)
        if current == (wanted_holiday, wanted_workday):
            unchanged += 1
            continue
        if wanted_holiday is None:
            PublicHoliday.objects.filter(date=record.date).delete()
        else:
            PublicHoliday.objects.update_or_create(
                date=record.date, defaults={"name": wanted_holiday[0], "is_compensatory": wanted_holiday[1]}
            )
        if wanted_workday is None:
            WeekendWorkday.objects.filter(date=record.date).delete()
        else:
            WeekendWorkday.objects.update_or_create(date=record.date, defaults={"name": wanted_workday})
        if holiday is None and workday is None:
            created += 1
        else:
            updated += 1
    return LoadCounts(created=created, updated=updated, unchanged=unchanged)


def time_limit_create_missing(*, model=LegalTimeLimit, using: str = "default") -> int:
    """Create the rows of the file whose code is not stored, leaving stored rows (and administrators'
    corrections) alone. Run after every migrate and flush, so a database emptied by `flush` (as
    transactional tests do) still has the limits deadlines are counted with."""
    records = time_limit_records_read()
    stored = set(model.objects.using(using).values_list("code", flat=True))
    missing = [
        model(code=r.code, description=r.description, limit_type=r.limit_type, amount=r.amount, unit=r.unit,
              source=r.source)
        for r in records
        if r.code not in stored
    ]
    model.objects.using(using).bulk_create(missing)
    return len(missing)
