"""Notifications partitioned by month on PostgreSQL (notifications/partitions.py, migration 0015): rows
land in their month's partition, an event still notifies a recipient once (also across months, on
every write path, and between two concurrent writers), the beat task makes the coming months'
partitions idempotently, and an upgrade converts a plain table with rows and outbox rows. SQLite
keeps one table with its unique constraint: the migration does nothing there."""

import datetime
import importlib
import threading
from types import SimpleNamespace

import pytest
import time_machine
from django.db import IntegrityError, connection, connections, transaction
from psycopg.errors import UniqueViolation  # the sweep's COPY goes round Django's error wrapping

from audit.partitions import is_partitioned, partitions
from notifications.models import Notification, NotificationKind, OutboxMessage
from notifications.partitions import KEY_TABLE, NOTIFICATION_TABLE, OUTBOX_TABLE
from notifications.services import _insert_many, notify
from notifications.tasks import partitions_ahead
from tests.support.sql import checks_now, partition_key, primary_key, tables_as_of

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="declarative partitioning is PostgreSQL's; SQLite keeps one table",
)

UTC = datetime.UTC
LINK = "/cases/7/handoffs/12/"


def _send(recipients, event_key="handoff:12:sent", **options):
    return notify(recipients=recipients, kind=NotificationKind.HANDOFF_RECEIVED, case_number="HN-2026-000123",
                  link=LINK, event_key=event_key, **options)


def _send_at(moment, recipients, event_key="handoff:12:sent"):
    with time_machine.travel(moment, tick=False):
        return _send(recipients, event_key)


def _partition_of(notification: Notification) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {NOTIFICATION_TABLE} WHERE id = %s",  # noqa: S608
                       [notification.pk])
        return cursor.fetchone()[0]


def _keys() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT event_key, recipient_id, notification_id FROM {KEY_TABLE} ORDER BY 1, 2")  # noqa: S608
        return cursor.fetchall()


def _row(user, event_key, moment):
    return {"recipient_id": user.pk, "kind": NotificationKind.DEADLINE_OVERDUE.value, "event_key": event_key,
            "case_number": "", "link": "/", "params": {}, "in_app": True, "created_at": moment, "read_at": None}


def test_a_fresh_migrate_gives_a_partitioned_table_and_a_key_table(db):
    assert is_partitioned(connection, NOTIFICATION_TABLE)
    assert primary_key(NOTIFICATION_TABLE) == "PRIMARY KEY (id, created_at)"
    assert partition_key(NOTIFICATION_TABLE) == "RANGE (created_at)"
    assert primary_key(KEY_TABLE) == "PRIMARY KEY (event_key, recipient_id)"
    with connection.cursor() as cursor:
        # The outbox keeps its own once-per-channel key; its foreign key to the notification is gone.
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND confrelid = %s::regclass",
                       [OUTBOX_TABLE, NOTIFICATION_TABLE])
        assert cursor.fetchall() == []
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [NOTIFICATION_TABLE])
        indexes = {name for (name,) in cursor.fetchall()}
    assert {"notification_inbox", "notification_unread", "notification_unread_link",
            "notification_once_per_event"} <= indexes
    assert [name for name, _bound in partitions(connection, NOTIFICATION_TABLE)][-1] == f"{NOTIFICATION_TABLE}_default"


def test_rows_land_in_their_months_partition_and_the_task_is_idempotent(world):
    with time_machine.travel(datetime.datetime(2031, 3, 10, tzinfo=UTC), tick=False):
        assert partitions_ahead() == [f"{NOTIFICATION_TABLE}_2031_{month:02d}" for month in (3, 4, 5, 6)]
        assert partitions_ahead() == []  # the next day's run: nothing to do
    [march] = _send_at(datetime.datetime(2031, 3, 31, 23, 59, 59, tzinfo=UTC), [world.receiving_responder])
    [april] = _send_at(datetime.datetime(2031, 4, 1, tzinfo=UTC), [world.receiving_responder], "handoff:13:sent")
    assert _partition_of(march) == f"{NOTIFICATION_TABLE}_2031_03"
    assert _partition_of(april) == f"{NOTIFICATION_TABLE}_2031_04"
    # The ORM finds them by id alone, as before, and the inbox lists them across partitions.
    assert Notification.objects.get(pk=march.pk).event_key == "handoff:12:sent"
    assert list(Notification.objects.filter(recipient=world.receiving_responder)) == [april, march]


def test_an_event_notifies_a_recipient_once_even_a_month_later(world):
    user, other = world.receiving_responder, world.receiving_supervisor
    with time_machine.travel(datetime.datetime(2031, 5, 2, tzinfo=UTC), tick=False):
        partitions_ahead()
    [first] = _send_at(datetime.datetime(2031, 5, 31, 23, 0, tzinfo=UTC), [user])
    # The same event again, the next month (another partition): nothing for `user`, `other` is told.
    [second] = _send_at(datetime.datetime(2031, 6, 1, 1, 0, tzinfo=UTC), [user, other])
    assert second.recipient_id == other.pk
    assert Notification.objects.filter(event_key="handoff:12:sent", recipient=user).count() == 1
    assert _keys() == [("handoff:12:sent", user.pk, first.pk), ("handoff:12:sent", other.pk, second.pk)]
    # Any other writer is refused as by the unique index it replaces: the ORM, and the sweep's COPY.
    with pytest.raises(IntegrityError, match="notification_once_per_event"), transaction.atomic():
        Notification.objects.create(recipient=user, kind=NotificationKind.HANDOFF_RECEIVED, event_key="handoff:12:sent",
                                    link=LINK)
    with pytest.raises(UniqueViolation, match="notification_once_per_event"), transaction.atomic():
        _insert_many(Notification, [_row(user, "handoff:12:sent", datetime.datetime(2031, 7, 1, tzinfo=UTC))])
    # Two rows of one batch with the same key: the second is refused too.
    with pytest.raises(UniqueViolation, match="notification_once_per_event"), transaction.atomic():
        _insert_many(Notification, [_row(user, "deadline:1:overdue", datetime.datetime(2031, 5, 3, tzinfo=UTC)),
                                    _row(user, "deadline:1:overdue", datetime.datetime(2031, 6, 3, tzinfo=UTC))])
    # Changing a row onto a taken key is refused; onto a free one moves the key.
    with pytest.raises(IntegrityError, match="notification_once_per_event"), transaction.atomic():
        Notification.objects.filter(pk=second.pk).update(recipient=user)
    Notification.objects.filter(pk=second.pk).update(event_key="handoff:12:resent")
    assert ("handoff:12:resent", other.pk, second.pk) in _keys()
    assert ("handoff:12:sent", other.pk, second.pk) not in _keys()
    assert Notification.objects.count() == 2


def test_deleting_a_notification_frees_its_key_and_truncating_a_partition_frees_its_rows_keys(world):
    user = world.receiving_responder
    with time_machine.travel(datetime.datetime(2032, 1, 5, tzinfo=UTC), tick=False):
        partitions_ahead()
    [january] = _send_at(datetime.datetime(2032, 1, 5, tzinfo=UTC), [user], "handoff:1:sent")
    _send_at(datetime.datetime(2032, 2, 5, tzinfo=UTC), [user], "handoff:2:sent")
    january.delete()
    assert [key for key, _user, _id in _keys()] == ["handoff:2:sent"]
    assert len(_send_at(datetime.datetime(2032, 2, 6, tzinfo=UTC), [user], "handoff:1:sent")) == 1
    checks_now()
    OutboxMessage.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {NOTIFICATION_TABLE}_2032_02")
    assert _keys() == []


def test_a_row_without_its_month_lands_in_default_keeps_its_key_when_moved(world):
    user = world.receiving_responder
    [far] = _send_at(datetime.datetime(2044, 8, 15, tzinfo=UTC), [user])
    assert _partition_of(far) == f"{NOTIFICATION_TABLE}_default"
    checks_now()
    with time_machine.travel(datetime.datetime(2044, 8, 16, tzinfo=UTC), tick=False):
        assert f"{NOTIFICATION_TABLE}_2044_08" in partitions_ahead()
    assert _partition_of(far) == f"{NOTIFICATION_TABLE}_2044_08"
    assert _keys() == [("handoff:12:sent", user.pk, far.pk)]
    assert _send_at(datetime.datetime(2044, 8, 17, tzinfo=UTC), [user]) == []
    # The partition made later carries the TRUNCATE trigger (copied from the parent).
    checks_now()
    OutboxMessage.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {NOTIFICATION_TABLE}_2044_08")
    assert _keys() == []


@pytest.mark.django_db(transaction=True)
def test_two_writers_of_the_same_event_at_once_notify_and_queue_once(reachable):
    """The second writer's claim waits on the first's open transaction, then finds the key taken."""
    users = [reachable.receiving_responder, reachable.receiving_supervisor]
    claimed, go_on, errors, results = threading.Event(), threading.Event(), [], []

    def first():
        try:
            with transaction.atomic():
                results.append(len(_send(users)))
                claimed.set()
                go_on.wait(timeout=10)
        except Exception as exc:
            errors.append(exc)
        finally:
            claimed.set()
            connections.close_all()

    def second():
        try:
            claimed.wait(timeout=10)
            with transaction.atomic():
                results.append(len(_send([*users, reachable.lead_responder])))
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    claimed.wait(timeout=10)
    threading.Timer(1.0, go_on.set).start()  # the second writer is blocked on the keys meanwhile
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert results == [2, 1]
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "lead_responder", "receiving_responder", "receiving_supervisor",
    ]
    assert OutboxMessage.objects.filter(recipient__in=users).count() == 2  # each one email, once


def test_an_upgrade_converts_a_plain_table_with_rows_and_outbox_rows(world):
    """Migration 0015 on the tables as 0014 left them, with rows of several months: built in a schema
    of its own inside the test's transaction (rolled back with it)."""
    tables_as_of(("notifications", "0014_meeting_invitation_kind"), "Notification", "OutboxMessage")
    user, other = world.receiving_responder, world.receiving_supervisor
    moments = [datetime.datetime(2025, month, 10, tzinfo=UTC) for month in (10, 11, 12)]
    old = [Notification.objects.create(recipient=user, kind=NotificationKind.HANDOFF_RECEIVED,
                                       event_key=f"handoff:{n}:sent", link=LINK)
           for n in range(1, 4)]
    for row, moment in zip(old, moments, strict=True):  # created_at is auto_now_add
        Notification.objects.filter(pk=row.pk).update(created_at=moment)
    OutboxMessage.objects.create(notification=old[0], event_key=old[0].event_key, recipient=user, channel="email",
                                 next_attempt_at=moments[0], relay_after=moments[0])
    assert not is_partitioned(connection, NOTIFICATION_TABLE)
    checks_now()

    migration = importlib.import_module("notifications.migrations.0015_partition_by_month")
    migration.partition(None, SimpleNamespace(connection=connection))

    assert is_partitioned(connection, NOTIFICATION_TABLE)
    assert [_partition_of(row) for row in old] == [f"{NOTIFICATION_TABLE}_2025_{month}" for month in (10, 11, 12)]
    assert _keys() == [(row.event_key, user.pk, row.pk) for row in old]
    assert OutboxMessage.objects.get().notification == old[0]
    # The sequence goes on; old events stay sent; new ones are written and keyed.
    assert _send([user], "handoff:3:sent") == []
    [new] = _send([user, other], "handoff:4:sent")[:1]
    assert new.pk > old[-1].pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('hopluc_upgrade_test.notifications_notification_unpartitioned')")
        assert cursor.fetchone()[0] is None
        cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'hopluc_upgrade_test' AND tablename = %s",
                       [NOTIFICATION_TABLE])
        assert {"notification_inbox", "notification_unread", "notification_unread_link", "notification_once_per_event",
                "notifications_notification_pkey"} <= {name for (name,) in cursor.fetchall()}
    # Run again (migrate back and forth): nothing changes.
    migration.partition(None, SimpleNamespace(connection=connection))
    assert Notification.objects.count() == 5
