"""The Vietnamese working-day calendar: loading it, correcting it, and counting on it."""

import datetime
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications.calendar import (
    VIETNAM,
    calendar_years_missing,
    is_working_day,
    limit_parse,
    working_time_add,
    working_time_add_checked,
)
from notifications.models import PublicHoliday, WeekendWorkday

from .conftest import vn

TET_2026 = [datetime.date(2026, 2, day) for day in (16, 17, 18, 19, 20)]


def test_load_holidays_fills_tet_and_the_other_public_holidays(calendar):
    days = set(PublicHoliday.objects.filter(date__year=2026).values_list("date", flat=True))
    assert set(TET_2026) <= days
    assert {
        datetime.date(2026, 1, 1),  # New Year
        datetime.date(2026, 4, 26), datetime.date(2026, 4, 27),  # Hùng Kings, and its Monday in lieu
        datetime.date(2026, 4, 30), datetime.date(2026, 5, 1),  # Reunification Day, Labour Day
        datetime.date(2026, 9, 1), datetime.date(2026, 9, 2),  # National Day
    } <= days
    assert PublicHoliday.objects.get(date="2026-04-27").is_compensatory
    assert not PublicHoliday.objects.get(date="2026-02-17").is_compensatory
    # The bridging Monday before National Day 2026, worked back on Saturday 22 August.
    assert PublicHoliday.objects.get(date="2026-08-31").is_compensatory
    assert WeekendWorkday.objects.filter(date="2026-08-22").exists()
    assert {day.year for day in PublicHoliday.objects.dates("date", "year")} == {
        2025, 2026, 2027, 2028
    }


def test_load_holidays_twice_changes_nothing_and_keeps_corrections(calendar, capsys):
    PublicHoliday.objects.filter(date="2026-02-16").update(name="Giao thừa (sửa tay)")
    count = PublicHoliday.objects.count()
    with translation.override("en"):
        call_command("load_holidays", "--years", "2025-2028")
    assert "0 days added" in capsys.readouterr().out
    assert PublicHoliday.objects.count() == count
    assert PublicHoliday.objects.get(date="2026-02-16").name == "Giao thừa (sửa tay)"


@pytest.mark.parametrize("years", ["2028-2025", "twenty", "2025-", "1900", "2025-2099"])
def test_load_holidays_refuses_bad_years(db, years):
    with pytest.raises(CommandError):
        call_command("load_holidays", "--years", years)
    assert not PublicHoliday.objects.exists()


def test_friday_evening_plus_three_working_days_is_wednesday_same_time(calendar):
    assert working_time_add(vn(2026, 1, 9, 19, 30), amount=3, unit="working_days") == vn(2026, 1, 14, 19, 30)


def test_working_days_skip_tet_2026(calendar):
    # Friday 13 Feb is the last working day before Tết; Mon 16 – Fri 20 are off, then a weekend.
    assert working_time_add(vn(2026, 2, 13, 19, 0), amount=3, unit="working_days") == vn(2026, 2, 25, 19, 0)
    assert working_time_add(vn(2026, 2, 14, 9, 0), amount=1, unit="working_days") == vn(2026, 2, 23, 9, 0)
    assert working_time_add(vn(2026, 2, 17, 10, 0), amount=1, unit="working_days") == vn(2026, 2, 23, 10, 0)
    # A child support plan (5 working days) asked for on Thursday 12 Feb.
    assert working_time_add(vn(2026, 2, 12, 8, 0), amount=5, unit="working_days") == vn(2026, 2, 26, 8, 0)


def test_a_swapped_saturday_counts_and_the_bridging_monday_does_not(calendar):
    assert working_time_add(vn(2026, 8, 21, 10, 0), amount=1, unit="working_days") == vn(2026, 8, 22, 10, 0)
    # Fri 28 Aug + 1: Sat, Sun, Mon 31 (in lieu), Tue 1 and Wed 2 Sep (National Day) are off.
    assert working_time_add(vn(2026, 8, 28, 10, 0), amount=1, unit="working_days") == vn(2026, 9, 3, 10, 0)


def test_working_days_are_counted_on_vietnamese_dates_whatever_the_zone_of_the_start(calendar):
    utc = datetime.UTC
    # 13:00 UTC on Friday is 20:00 in Hà Nội, still Friday.
    assert working_time_add(datetime.datetime(2026, 1, 9, 13, 0, tzinfo=utc), amount=3, unit="working_days") == vn(
        2026, 1, 14, 20, 0
    )
    # 18:00 UTC on Friday is already Saturday 01:00 in Hà Nội: Saturday is the start date.
    assert working_time_add(datetime.datetime(2026, 1, 9, 18, 0, tzinfo=utc), amount=3, unit="working_days") == vn(
        2026, 1, 14, 1, 0
    )


def test_hours_days_and_months_ignore_the_calendar(calendar):
    start = vn(2026, 2, 13, 19, 0)
    assert working_time_add(start, amount=12, unit="hours") == vn(2026, 2, 14, 7, 0)
    assert working_time_add(start, amount=15, unit="days") == vn(2026, 2, 28, 19, 0)
    assert working_time_add(vn(2026, 1, 31, 9, 0), amount=1, unit="months") == vn(2026, 2, 28, 9, 0)
    assert working_time_add(vn(2026, 10, 31, 9, 0), amount=4, unit="months") == vn(2027, 2, 28, 9, 0)


def test_bad_arguments_are_refused(db):
    with pytest.raises(ValueError):
        working_time_add(datetime.datetime(2026, 1, 9, 19, 0), amount=3, unit="working_days")
    with pytest.raises(ValueError):
        working_time_add(vn(2026, 1, 9, 19, 0), amount=-1, unit="hours")
    with pytest.raises(ValueError):
        working_time_add(vn(2026, 1, 9, 19, 0), amount=1, unit="fortnights")


@pytest.mark.parametrize("override", ["² hours", "0 hours", "-1 hours", "2", "2 fortnights", "2 hours extra"])
def test_a_time_limit_override_that_is_not_a_positive_whole_number_and_a_unit_is_refused(override):
    """The override comes from settings; "²" passed str.isdigit() and failed in int() with another error."""
    with pytest.raises(ValueError, match="is not '<positive whole number>"):
        limit_parse(override)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.datetimes(min_value=datetime.datetime(2025, 1, 1), max_value=datetime.datetime(2028, 11, 30)),
    amount=st.integers(min_value=1, max_value=25),
)
def test_working_days_property(calendar, start, amount):
    """The result is a working day at the start's time of day, with exactly amount − 1 working days
    strictly between the start date and it. (The calendar rows do not change between examples.)"""
    start = start.replace(tzinfo=VIETNAM)
    due = working_time_add(start, amount=amount, unit="working_days")
    assert due.astimezone(VIETNAM).time() == start.time()
    assert is_working_day(due.date())
    between = [start.date() + datetime.timedelta(days=offset) for offset in range(1, (due.date() - start.date()).days)]
    assert sum(is_working_day(day) for day in between) == amount - 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.datetimes(min_value=datetime.datetime(2024, 6, 1), max_value=datetime.datetime(2029, 6, 30)),
    amount=st.integers(min_value=0, max_value=40),
    zone=st.sampled_from([VIETNAM, datetime.UTC]),
)
def test_the_one_read_count_is_the_count_and_names_the_same_missing_years(calendar, start, amount, zone):
    """working_time_add_checked (one read of the calendar, for deadline_create) gives the due time
    working_time_add gives and the years calendar_years_missing names, over the loaded years
    (2025-2028), the years without holidays around them and a start in UTC on New Year's Eve."""
    start = start.replace(tzinfo=zone)
    due, missing = working_time_add_checked(start, amount=amount, unit="working_days")
    assert due == working_time_add(start, amount=amount, unit="working_days")
    assert missing == calendar_years_missing(years=range(start.year, due.year + 1))


def test_the_one_read_count_is_one_statement_and_other_units_read_nothing(calendar, django_assert_num_queries):
    with django_assert_num_queries(1):
        due, missing = working_time_add_checked(vn(2026, 2, 13, 10, 0), amount=3, unit="working_days")
    assert due == vn(2026, 2, 25, 10, 0) and missing == []
    with django_assert_num_queries(0):
        assert working_time_add_checked(vn(2026, 2, 13, 10, 0), amount=2, unit="hours") == (
            vn(2026, 2, 13, 12, 0), [])


# --- Official corrections by CSV --------------------------------------------------------------------

SWAP_CSV = """date,type,name
2027-04-30,holiday,Ngày Chiến thắng
2027-05-03,day_off_in_lieu,Nghỉ bù Quốc tế Lao động
2027-04-29,day_off_in_lieu,Nghỉ (hoán đổi)
2027-04-24,working_day,Làm bù cho ngày 29/4
"""


def test_calendar_csv_applies_an_official_swap_and_reimporting_changes_nothing(calendar, tmp_path, capsys):
    path = tmp_path / "swap.csv"
    path.write_text(SWAP_CSV, encoding="utf-8")
    before = working_time_add(vn(2027, 4, 28, 9, 0), amount=1, unit="working_days")
    assert before == vn(2027, 4, 29, 9, 0)
    with translation.override("en"):
        call_command("import_calendar", str(path))
    assert "2 days added" in capsys.readouterr().out
    assert PublicHoliday.objects.get(date="2027-04-29").is_compensatory
    assert WeekendWorkday.objects.filter(date="2027-04-24").exists()
    # Thu 29 (swapped off), Fri 30 (holiday), the weekend and Mon 3 May (in lieu) are off now.
    assert working_time_add(vn(2027, 4, 28, 9, 0), amount=1, unit="working_days") == vn(2027, 5, 4, 9, 0)
    assert working_time_add(vn(2027, 4, 23, 9, 0), amount=1, unit="working_days") == vn(2027, 4, 24, 9, 0)
    with translation.override("en"):
        call_command("import_calendar", str(path))
    assert "0 days added, 0 changed, 4 unchanged" in capsys.readouterr().out


def test_calendar_csv_working_day_removes_a_holiday(calendar, tmp_path):
    path = tmp_path / "fix.csv"
    path.write_text("date,type,name\n2026-11-24,working_day,Không nghỉ\n", encoding="utf-8")
    assert not is_working_day(datetime.date(2026, 11, 24))
    call_command("import_calendar", str(path), verbosity=0)
    assert is_working_day(datetime.date(2026, 11, 24))
    assert not WeekendWorkday.objects.filter(date="2026-11-24").exists()


@pytest.mark.parametrize(
    "rows, message",
    [
        ("2027-13-01,holiday,Tết\n", "Line 3"),
        ("2027-01-02,vacation,Tết\n", "Line 3"),
        ("2027-01-02,holiday,\n", "Line 3"),
        ("2027-01-02,holiday,A\n2027-01-02,holiday,B\n", "Line 4"),
    ],
    ids=["date", "type", "name", "duplicate"],
)
def test_calendar_csv_bad_rows_write_nothing(db, tmp_path, rows, message):
    path = tmp_path / "bad.csv"
    path.write_text("date,type,name\n2027-06-01,holiday,Good row\n" + rows, encoding="utf-8")
    with translation.override("en"), pytest.raises(CommandError, match=message):
        call_command("import_calendar", str(path))
    assert not PublicHoliday.objects.exists()


def test_calendar_csv_without_the_columns_is_refused(db, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("day,type,name\n2027-01-01,holiday,x\n", encoding="utf-8")
    with pytest.raises(CommandError, match="date"):
        call_command("import_calendar", str(path))


def test_calendar_csv_unreadable_file_is_a_command_error(db, tmp_path):
    with pytest.raises(CommandError):
        call_command("import_calendar", str(tmp_path / "missing.csv"))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("date,type,name\n2027-01-02,holiday,T\xe9t\n".encode("latin-1"))
    with pytest.raises(CommandError):
        call_command("import_calendar", str(latin))


@pytest.mark.parametrize(
    "rows, message",
    [
        ('2027-01-02,holiday,"' + "x" * 200_000 + '"\n', "Line 3: unreadable CSV (field larger than field limit"),
        ("2027-01-02,holiday,Qu\x00oc khanh\n", "Line 3: name holds a NUL character"),
    ],
    ids=["field beyond the csv limit", "NUL in the name"],
)
def test_calendar_csv_a_file_the_database_or_csv_cannot_take_is_refused_at_its_line(db, tmp_path, rows, message):
    # Not a traceback in the middle of the write (csv.Error, or PostgreSQL's DataError on a NUL): the
    # command's "nothing written" with the line, and a non-zero exit.
    path = tmp_path / "bad.csv"
    path.write_text("date,type,name\n2027-06-01,holiday,Good row\n" + rows, encoding="utf-8")
    with translation.override("en"), pytest.raises(CommandError, match=re.escape(message)):
        call_command("import_calendar", str(path))
    assert not PublicHoliday.objects.exists()


def test_calendar_csv_a_header_beyond_the_csv_limit_is_refused(db, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text('"' + "d" * 200_000 + '",type,name\n', encoding="utf-8")
    with translation.override("en"), pytest.raises(CommandError, match="Line 1: unreadable CSV"):
        call_command("import_calendar", str(path))
