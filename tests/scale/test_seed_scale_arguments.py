"""`manage.py seed_scale` on an empty database: bad arguments are refused before anything is written,
and the calendar it preloads counts working days as the database does. (The tests of a seeded world
are in test_seed_scale.py, which seeds one world for all of them.)"""

import datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from cases.models import Case
from tests.support.killed import Killed, killed_at_call

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("args, message", [
    (["--cases", "0"], "--cases"),
    (["--cases", "10", "--provinces", "35"], "--provinces"),
    (["--cases", "10", "--agencies-per-province", "1"], "--agencies-per-province"),
    (["--cases", "10", "--months", "0"], "--months"),
    # Beyond the calendar (timedelta's and datetime's range): refused, not an OverflowError's traceback.
    (["--cases", "10", "--months", "100000"], "--months"),
    (["--cases", "10", "--months", "99999999999"], "--months"),
    (["--cases", "10", "--responders", "0"], "--responders"),
    (["--cases", "ten"], "--cases"),
])
def test_bad_arguments_are_refused(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed_scale", *args)
    assert not Case.objects.exists()


def test_seed_scale_refuses_production_settings_unless_told(db, settings):
    """The scale world's accounts share a published password, and its cases are fake: never in a
    production database by mistake (the same guard as seed_demo's)."""
    settings.SETTINGS_MODULE = "config.settings.production"
    args = ["--cases", "1", "--provinces", "1", "--agencies-per-province", "2", "--responders", "1"]
    with pytest.raises(CommandError, match="production"):
        call_command("seed_scale", *args, stdout=StringIO())
    assert not get_user_model().objects.exists() and not Case.objects.exists()
    call_command("seed_scale", *args, "--allow-production", stdout=StringIO())
    assert Case.objects.count() == 1


def test_the_preloaded_calendar_counts_working_days_as_the_database_does(db):
    from notifications.calendar import days_off_preloaded, working_time_add
    from notifications.models import PublicHoliday, WeekendWorkday

    for day in range(16, 21):  # Tết 2026
        PublicHoliday.objects.create(date=datetime.date(2026, 2, day), name="Tết")
    PublicHoliday.objects.create(date=datetime.date(2026, 9, 2), name="Quốc khánh")
    WeekendWorkday.objects.create(date=datetime.date(2026, 2, 28), name="Làm bù")
    days_off = days_off_preloaded()
    start = datetime.datetime(2026, 1, 1, 2, 30, tzinfo=datetime.UTC)
    for day in range(0, 366, 3):
        moment = start + datetime.timedelta(days=day)
        assert working_time_add(moment, amount=5, unit="working_days", days_off=days_off) == working_time_add(
            moment, amount=5, unit="working_days")


def test_the_statistics_are_refreshed_each_time_the_seeded_cases_double(db, monkeypatch):
    """On PostgreSQL the seeder ANALYZEs during the load (at ANALYZE_FIRST cases, then at each doubling) and
    once at the end, so that the supervision triggers' plans do not stay those of empty tables; on SQLite
    it sends none."""
    from django.db import connection

    from scale import seed

    monkeypatch.setattr(seed, "CHUNK", 20)
    monkeypatch.setattr(seed, "ANALYZE_FIRST", 20)
    sent = []

    def watch(execute, sql, params, many, context):
        if isinstance(sql, str) and sql.strip().upper().startswith("ANALYZE"):
            sent.append(Case.objects.count())
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        seed.seed_scale(cases=100, provinces=1, agencies_per_province=6, responders_per_agency=1, seed=3)
    assert Case.objects.count() == 100
    # At 20, 40 and 80 cases during the load (doubling), then at the end.
    assert sent == ([20, 40, 80, 100] if connection.vendor == "postgresql" else [])


def test_a_seed_cut_short_leaves_case_numbers_that_a_new_run_continues(db, monkeypatch):
    """Each chunk of cases commits on its own: a run killed after some chunks keeps them, and the case
    number sequences must have moved with them, or the next run (and the next case opened by a
    responder) draws numbers those cases already hold."""
    from cases.models import CaseNumberSequence
    from scale import seed

    monkeypatch.setattr(seed, "CHUNK", 20)
    arguments = {"provinces": 1, "agencies_per_province": 6, "responders_per_agency": 1, "seed": 3}
    with killed_at_call(monkeypatch, seed, "_write", calls=2), pytest.raises(Killed):  # in the third chunk
        seed.seed_scale(cases=100, **arguments)
    assert Case.objects.count() == 40
    seed.seed_scale(cases=30, **arguments)
    assert Case.objects.count() == 70
    numbers = list(Case.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 70
    last = {(s.province.abbreviation, s.year): s.last for s in CaseNumberSequence.objects.select_related("province")}
    for number in numbers:
        abbreviation, year, serial = number.rsplit("-", 2)
        assert int(serial) <= last[(abbreviation, int(year))], number
