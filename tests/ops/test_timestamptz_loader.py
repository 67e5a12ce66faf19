"""config.postgresql reads `timestamptz` with psycopg's C loader in a UTC session: the same aware datetimes
(tzinfo datetime.timezone.utc) as Django's own loader, for every value Django's reads, and the same errors
for the values it refuses."""

import datetime

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.postgres import types
from psycopg.pq import Format

from config.postgresql.base import UtcTimestamptzLoader

pytestmark = [pytest.mark.skipif(connections[DEFAULT_DB_ALIAS].vendor != "postgresql",
                                 reason="the loader is PostgreSQL's"), pytest.mark.django_db]

VALUES = [
    "2026-06-01 12:00:00+00", "2026-06-01 12:00:00.5+00", "2026-06-01 12:00:00.000001+07",
    "1900-01-01 00:00:00+07:06:30", "0001-01-01 00:00:00+00", "9999-12-31 23:59:59.999999+00",
    "2026-03-29 01:30:00+01", "1969-12-31 23:59:59.999999-05:30",
]
SERIES = ("SELECT ts FROM generate_series(timestamptz '2024-01-01 00:00:00.123456+00', "
          "timestamptz '2026-12-31 00:00:00+00', interval '7 hours 13 minutes 1.000017 seconds') ts")


def _read(sql: str, *, django_loader: bool, params=None):
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        if django_loader:
            register_tzloader(connection.timezone, cursor.cursor)
        try:
            cursor.execute(sql, params)
            return cursor.fetchall()
        except Exception as error:  # noqa: BLE001 - the error itself is compared
            return f"{type(error).__name__}: {error}"


def test_the_connection_reads_timestamptz_with_the_c_loader():
    connection = connections[DEFAULT_DB_ALIAS]
    connection.ensure_connection()
    assert connection.timezone == datetime.UTC
    loader = connection.connection.adapters.get_loader(types["timestamptz"].oid, Format.TEXT)
    assert loader is UtcTimestamptzLoader
    # Django's create_cursor compares this with the connection's time zone: equal, nothing is registered per cursor.
    assert loader.timezone == connection.timezone


@pytest.mark.parametrize("value", [*VALUES, "infinity", "-infinity", None])
def test_each_value_reads_as_djangos_loader_reads_it(value):
    ours = _read("SELECT %s::timestamptz", django_loader=False, params=[value])
    djangos = _read("SELECT %s::timestamptz", django_loader=True, params=[value])
    assert ours == djangos
    if isinstance(ours, list) and ours[0][0] is not None:
        assert ours[0][0].tzinfo is datetime.UTC


def test_a_series_reads_as_djangos_loader_reads_it():
    ours = _read(SERIES, django_loader=False)
    assert len(ours) > 3000
    assert ours == _read(SERIES, django_loader=True)
    assert {row[0].tzinfo for row in ours} == {datetime.UTC}
