"""Issue 16 part 8: Viet Nam's public holidays are loaded by seed_demo (make run) and by a data
migration (production), from the pinned `holidays` package; an administrator's corrections and
removals survive every later load; deadlines then skip the holidays."""

import datetime
import importlib

import pytest
from django.apps import apps as global_apps
from django.core.management import call_command
from django.db import connection

from notifications.calendar import VIETNAM, working_time_add
from notifications.demo import demo_calendar_years, seed_demo_holidays_step
from notifications.models import HolidayRemoval, PublicHoliday, WeekendWorkday

TET_2026 = [datetime.date(2026, 2, day) for day in (16, 17, 18, 19, 20)]
load_migration = importlib.import_module("notifications.migrations.0011_load_public_holidays")


class _SchemaEditor:
    connection = connection


def _migrate_load(settings, years: str) -> None:
    settings.CALENDAR_PRELOAD_YEARS = years
    load_migration.load(global_apps, _SchemaEditor())


def test_the_data_migration_loads_the_holidays_and_deadlines_skip_them(db, settings):
    assert not PublicHoliday.objects.exists()
    _migrate_load(settings, "2026")
    assert set(TET_2026) <= set(PublicHoliday.objects.values_list("date", flat=True))
    # Friday 13 Feb 2026, the last working day before Tết: 3 working days later is Wednesday 25 Feb.
    due = working_time_add(datetime.datetime(2026, 2, 13, 10, 0, tzinfo=VIETNAM), amount=3, unit="working_days")
    assert due == datetime.datetime(2026, 2, 25, 10, 0, tzinfo=VIETNAM)


def test_seed_demo_loads_the_holidays_around_today(db, seed_demo_small):
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    years = {day.year for day in PublicHoliday.objects.dates("date", "year")}
    assert set(demo_calendar_years()) == years
    assert WeekendWorkday.objects.exists() or not any(year == 2026 for year in years)


def test_loading_again_keeps_what_an_administrator_corrected_moved_or_removed(db, settings, admin_client):
    _migrate_load(settings, "2026")
    count = PublicHoliday.objects.count()
    # Corrected: renamed. Removed: deleted in the admin. Moved: its date changed.
    PublicHoliday.objects.filter(date="2026-02-16").update(name="Giao thừa (sửa tay)")
    removed = PublicHoliday.objects.get(date="2026-04-27")
    response = admin_client.post(f"/admin/notifications/publicholiday/{removed.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not PublicHoliday.objects.filter(date="2026-04-27").exists()
    moved = PublicHoliday.objects.get(date="2026-09-01")
    moved.date = datetime.date(2026, 9, 3)
    moved.save()
    assert set(HolidayRemoval.objects.values_list("date", flat=True)) == {
        datetime.date(2026, 4, 27), datetime.date(2026, 9, 1)}

    # Every loader: the migration, load_holidays, seed_demo's step.
    _migrate_load(settings, "2026")
    call_command("load_holidays", "--years", "2026", verbosity=0)
    seed_demo_holidays_step(None)

    assert PublicHoliday.objects.get(date="2026-02-16").name == "Giao thừa (sửa tay)"
    assert not PublicHoliday.objects.filter(date__in=["2026-04-27", "2026-09-01"]).exists()
    assert PublicHoliday.objects.filter(date="2026-09-03").exists()
    assert PublicHoliday.objects.filter(date__year=2026).count() == count - 1
    # The removed Monday counts as a working day again.
    due = working_time_add(datetime.datetime(2026, 4, 24, 9, 0, tzinfo=VIETNAM), amount=1, unit="working_days")
    assert due.date() == datetime.date(2026, 4, 27)


def test_a_holiday_put_back_by_hand_is_no_longer_a_removal(db, settings):
    _migrate_load(settings, "2026")
    PublicHoliday.objects.filter(date="2026-04-30").delete()
    assert HolidayRemoval.objects.filter(date="2026-04-30").exists()
    PublicHoliday.objects.create(date="2026-04-30", name="Ngày Giải phóng miền Nam")
    assert not HolidayRemoval.objects.exists()


@pytest.mark.parametrize("text,years", [("", range(0)), ("2026", range(2026, 2027)), ("2024-2032", range(2024, 2033))])
def test_calendar_years_parse(text, years):
    from notifications.loaders import calendar_years_parse

    assert calendar_years_parse(text) == years
