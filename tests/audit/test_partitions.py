"""The audit trail partitioned by month on PostgreSQL (audit/partitions.py, migration 0005): rows land
in their month's partition (or the DEFAULT one, moved out when the month's partition is made), the
chain verifies across partitions, the refusals hold on every partition, the beat task makes the
coming months' partitions idempotently, and both a fresh migrate and an upgrade of a plain table
with rows give the partitioned table. SQLite has no partitions: the migration does nothing there."""

import datetime
import importlib
from types import SimpleNamespace

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from audit.models import AUDIT_EVENT_TABLE, AuditEvent
from audit.partitions import audit_partitions_ahead, is_partitioned, partitions
from audit.selectors import audit_chain_verify
from audit.services import audit_chain_pending, audit_record
from audit.tasks import partitions_ahead
from audit.triggers import _statements
from tests.support.sql import checks_now, partition_key, primary_key, tables_as_of

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="declarative partitioning is PostgreSQL's; SQLite keeps one table",
)

UTC = datetime.UTC


def _partition_of(event: AuditEvent) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {AUDIT_EVENT_TABLE} WHERE seq = %s", [event.seq])  # noqa: S608
        return cursor.fetchone()[0]


def _record_at(moment: datetime.datetime, n: int) -> AuditEvent:
    with time_machine.travel(moment, tick=False):
        return audit_record(actor=None, action="view", case_id=n, target=f"case:{n}")


def _names() -> list[str]:
    return [name for name, _bound in partitions(connection, AUDIT_EVENT_TABLE)]


def _refused(sql: str, match: str) -> None:
    with pytest.raises(IntegrityError, match=match), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


def test_a_fresh_migrate_gives_a_partitioned_table_keyed_by_seq_and_at(db):
    assert is_partitioned(connection, AUDIT_EVENT_TABLE)
    assert primary_key(AUDIT_EVENT_TABLE) == "PRIMARY KEY (seq, at)"
    assert partition_key(AUDIT_EVENT_TABLE) == "RANGE (at)"
    assert _names()[-1] == f"{AUDIT_EVENT_TABLE}_default"


def test_rows_land_in_their_months_partition_and_the_task_is_idempotent(db):
    with time_machine.travel(datetime.datetime(2031, 3, 10, tzinfo=UTC), tick=False):
        made = partitions_ahead()
        assert made == [f"{AUDIT_EVENT_TABLE}_2031_{month:02d}" for month in (3, 4, 5, 6)]
        assert partitions_ahead() == []  # the next day's run: nothing to do
        assert audit_partitions_ahead(4) == [f"{AUDIT_EVENT_TABLE}_2031_07"]
    march = _record_at(datetime.datetime(2031, 3, 31, 23, 59, 59, tzinfo=UTC), 1)
    april = _record_at(datetime.datetime(2031, 4, 1, 0, 0, tzinfo=UTC), 2)
    assert _partition_of(march) == f"{AUDIT_EVENT_TABLE}_2031_03"
    assert _partition_of(april) == f"{AUDIT_EVENT_TABLE}_2031_04"
    # The ORM finds them by seq alone, as before.
    assert AuditEvent.objects.get(seq=april.seq).case_id == 2


def test_a_row_without_its_month_lands_in_default_and_moves_when_the_month_is_made(db):
    event = _record_at(datetime.datetime(2040, 1, 15, tzinfo=UTC), 7)
    assert _partition_of(event) == f"{AUDIT_EVENT_TABLE}_default"
    audit_chain_pending()
    checks_now()  # ALTER TABLE: the month's partition is made while the row waits in DEFAULT
    with time_machine.travel(datetime.datetime(2040, 1, 20, tzinfo=UTC), tick=False):
        assert f"{AUDIT_EVENT_TABLE}_2040_01" in partitions_ahead()
    assert _partition_of(event) == f"{AUDIT_EVENT_TABLE}_2040_01"
    moved = AuditEvent.objects.get(seq=event.seq)
    assert (moved.case_id, moved.position is not None) == (7, True)
    assert audit_chain_verify().intact
    # The DEFAULT partition refuses changes again after the move.
    other = _record_at(datetime.datetime(2045, 5, 5, tzinfo=UTC), 8)
    _refused(f"DELETE FROM {AUDIT_EVENT_TABLE}_default WHERE seq = {other.seq}", "append-only")  # noqa: S608
    # A row of a month long past (a bulk load, a clock set wrong) gets its month on the next daily run.
    past = _record_at(datetime.datetime(2019, 7, 4, tzinfo=UTC), 9)
    checks_now()
    made = partitions_ahead()
    assert {f"{AUDIT_EVENT_TABLE}_2019_07", f"{AUDIT_EVENT_TABLE}_2045_05"} <= set(made)
    assert _partition_of(past) == f"{AUDIT_EVENT_TABLE}_2019_07"
    assert _partition_of(other) == f"{AUDIT_EVENT_TABLE}_2045_05"
    assert partitions_ahead() == []


def test_the_chain_verifies_across_partitions(db):
    moments = [datetime.datetime(2030, month, 2, tzinfo=UTC) for month in (1, 2, 3)]
    with time_machine.travel(moments[0], tick=False):
        audit_partitions_ahead(2)
    events = [_record_at(moment, n) for n, moment in enumerate(moments, start=1)]
    assert len({_partition_of(event) for event in events}) == 3
    audit_chain_pending()
    report = audit_chain_verify()
    assert report.intact and report.events == 3
    positions = [AuditEvent.objects.get(seq=event.seq).position for event in events]
    assert positions == [1, 2, 3]


def test_the_refusals_hold_on_every_partition(db):
    with time_machine.travel(datetime.datetime(2032, 6, 1, tzinfo=UTC), tick=False):
        audit_partitions_ahead(1)
    _record_at(datetime.datetime(2032, 6, 3, tzinfo=UTC), 1)
    _record_at(datetime.datetime(2050, 1, 1, tzinfo=UTC), 2)  # DEFAULT
    audit_chain_pending()
    checks_now()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT tableoid::regclass::text FROM {AUDIT_EVENT_TABLE}")  # noqa: S608
        holding = {name for (name,) in cursor.fetchall()}
    assert holding == {f"{AUDIT_EVENT_TABLE}_2032_06", f"{AUDIT_EVENT_TABLE}_default"}
    for name in holding:  # row triggers fire on rows
        _refused(f"UPDATE {name} SET reason = 'rewritten'", "append-only")  # noqa: S608
        _refused(f"DELETE FROM {name}", "append-only")  # noqa: S608
    names = _names()
    assert len(names) > 4
    for name in names:
        _refused(f"TRUNCATE {name}", "append-only")
    assert AuditEvent.objects.count() == 2


def test_a_chain_position_stays_unique_across_partitions(db):
    with time_machine.travel(datetime.datetime(2033, 1, 5, tzinfo=UTC), tick=False):
        audit_partitions_ahead(1)
    first = _record_at(datetime.datetime(2033, 1, 5, tzinfo=UTC), 1)
    audit_chain_pending()
    second = _record_at(datetime.datetime(2033, 2, 5, tzinfo=UTC), 2)
    first.refresh_from_db()
    # A fill that would give the second event (another partition) the first one's position.
    _refused(
        f"UPDATE {AUDIT_EVENT_TABLE} SET position = {first.position}, prev_hash = 'x', hash = 'y' "  # noqa: S608
        f"WHERE seq = {second.seq}",
        "is taken",
    )


def test_an_upgrade_converts_a_plain_table_with_rows(db):
    """Migration 0005 on a table as 0004 left it, holding chained rows of several months: built in a
    schema of its own inside the test's transaction (rolled back with it)."""
    tables_as_of(("audit", "0004_case_anonymised_action"), "AuditEvent")
    with connection.cursor() as cursor:
        for sql in _statements("postgresql", install=True, version=2):
            cursor.execute(sql)
    moments = [datetime.datetime(2025, month, 10, tzinfo=UTC) for month in (10, 11, 12)]
    events = [_record_at(moment, n) for n, moment in enumerate(moments, start=1)]
    audit_chain_pending()
    assert not is_partitioned(connection, AUDIT_EVENT_TABLE)
    checks_now()

    migration = importlib.import_module("audit.migrations.0005_partition_by_month")
    migration.partition(None, SimpleNamespace(connection=connection))

    assert is_partitioned(connection, AUDIT_EVENT_TABLE)
    assert [_partition_of(event) for event in events] == [
        f"{AUDIT_EVENT_TABLE}_2025_{month}" for month in (10, 11, 12)  # the schema is first in search_path
    ]
    report = audit_chain_verify()
    assert report.intact and report.events == 3
    # The identity sequence goes on from the last seq; the new row is chained after the old ones.
    later = audit_record(actor=None, action="view")
    assert later.seq == events[-1].seq + 1
    audit_chain_pending()
    assert AuditEvent.objects.get(seq=later.seq).position == 4
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'hopluc_upgrade_test' AND tablename = %s",
                       [AUDIT_EVENT_TABLE])
        indexes = {name for (name,) in cursor.fetchall()}
        assert {"audit_event_case_seq", "audit_event_agency_seq", "audit_event_at", "audit_event_unchained",
                "audit_auditevent_pkey"} <= indexes
        cursor.execute("SELECT to_regclass('hopluc_upgrade_test.audit_auditevent_unpartitioned')")
        assert cursor.fetchone()[0] is None
    checks_now()
    for name in _names():
        if name.endswith(("2025_10", "2025_11", "2025_12")):  # those holding rows (row triggers fire on rows)
            _refused(f"DELETE FROM hopluc_upgrade_test.{name}", "append-only")  # noqa: S608
        _refused(f"TRUNCATE hopluc_upgrade_test.{name}", "append-only")
    _refused(f"TRUNCATE {AUDIT_EVENT_TABLE}", "append-only")
    # Run again (migrate back and forth): nothing changes.
    migration.partition(None, SimpleNamespace(connection=connection))
    assert AuditEvent.objects.count() == 4
