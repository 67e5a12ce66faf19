"""The application's database role (DATABASE_APP_ROLE), set up as production's `migrate` does it,
can do its normal work on the audit trail and the published reports but cannot change, delete,
truncate or unprotect them: it owns no table, so the triggers stay.

PostgreSQL only (roles and privileges); SQLite has neither. Roles are shared by the whole
PostgreSQL cluster, so each test uses a role of its own and removes it: the first test works
inside its transaction (CREATE ROLE is rolled back with it), through `SET ROLE`, which checks
privileges and ownership exactly as a login would; the second logs in as the role for real."""

import datetime
import uuid
from contextlib import contextmanager

import psycopg
import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.database_roles import app_role_after_migrate, app_role_ensure
from audit.models import AUDIT_EVENT_TABLE, AuditEvent
from audit.services import audit_chain_pending, audit_record
from notifications.models import NotificationKind
from notifications.partitions import KEY_TABLE, NOTIFICATION_TABLE, notification_partitions_ahead
from notifications.services import notification_mark_read, notify
from reports.models import MonthlyReport
from tests.support.sql import execute

REPORTS_TABLE = MonthlyReport._meta.db_table
PROTECTED = {REPORTS_TABLE: "id", AUDIT_EVENT_TABLE: "seq"}  # table: its key

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="database roles and privileges exist on PostgreSQL only, not SQLite",
)


def _role() -> str:
    return f"hopluc_app_test_{uuid.uuid4().hex[:12]}"


@contextmanager
def acting_as(role: str):
    execute(f"SET ROLE {connection.ops.quote_name(role)}")
    try:
        yield
    finally:
        execute("RESET ROLE")


def _refused(sql: str) -> str:
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    return str(caught.value)


def _refused_for_lack_of_rights(*statements: str) -> None:
    for sql in statements:
        message = _refused(sql)
        assert "permission denied" in message or "must be owner" in message, (sql, message)


def _report(**extra) -> MonthlyReport:
    fields = {"period": datetime.date(2026, 10, 1), "version": 1, "published_at": timezone.now(),
              "data": {"period": "2026-10", "tables": []}, "content_hash": "0" * 64, "code_version": "test"}
    return MonthlyReport.objects.create(**{**fields, **extra})


def test_the_application_role_works_but_cannot_rewrite_reports_or_the_audit_trail(db, settings):
    role = _role()
    settings.DATABASE_APP_ROLE, settings.DATABASE_APP_PASSWORD = role, "app-role-password"
    # What the migrate service runs after its migrations (audit.apps: post_migrate).
    app_role_after_migrate(sender=None, using="default")
    existing = _report()
    audit_record(actor=None, action="view", target="report:1")

    with acting_as(role):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, usesuper FROM pg_user WHERE usename = current_user")
            assert cursor.fetchone() == (role, False)
        # Its normal work: publish a report, record an audit event, read both, and change other tables.
        correction = _report(version=2, supersedes=existing, reason="Sửa lỗi")
        audit_record(actor=None, action="view", target=f"report:{correction.pk}")
        assert MonthlyReport.objects.count() == 2 and AuditEvent.objects.count() == 2
        # It chains events (fills their chain fields once) and can change no other column.
        audit_chain_pending()
        assert not AuditEvent.objects.filter(position__isnull=True).exists()
        for sql in ("UPDATE audit_auditevent SET reason = reason", "UPDATE audit_auditevent SET at = at"):
            assert "permission denied" in _refused(sql), sql
        # The chain fields it may update, the trigger lets it fill only once.
        assert "append-only" in _refused("UPDATE audit_auditevent SET hash = hash")
        execute("UPDATE django_session SET expire_date = expire_date",
                "DELETE FROM django_session WHERE session_key = 'none'")

        for table, key in PROTECTED.items():
            _refused_for_lack_of_rights(
                f"UPDATE {table} SET {key} = {key}",  # noqa: S608 - table names are constants
                f"DELETE FROM {table}",  # noqa: S608
                f"TRUNCATE {table}",
                f"ALTER TABLE {table} DISABLE TRIGGER ALL",
                f"ALTER TABLE {table} DISABLE TRIGGER USER",
                f"ALTER TABLE {table} OWNER TO {role}",
                f"DROP TABLE {table}",
            )
        _refused_for_lack_of_rights(
            "DROP TRIGGER monthly_report_no_update ON reports_monthlyreport",
            "DROP TRIGGER monthly_report_no_delete ON reports_monthlyreport",
            "DROP TRIGGER audit_event_no_update_delete ON audit_auditevent",
            "SET session_replication_role = replica",  # would silence every trigger
        )

    # The rows are as they were; the owner still sees both triggers sets in place.
    assert MonthlyReport.objects.count() == 2 and AuditEvent.objects.count() == 2
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND tgenabled = 'O' AND NOT tgisinternal "
            "ORDER BY tgname",
            [REPORTS_TABLE],
        )
        assert [name for (name,) in cursor.fetchall()] == [
            "monthly_report_no_delete", "monthly_report_no_truncate", "monthly_report_no_update",
        ]


def test_the_owner_itself_or_a_privileged_role_is_refused_as_application_role(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
    with pytest.raises(ImproperlyConfigured, match="another role"):
        app_role_ensure(connection, role=owner, password="x")
    role = _role()
    execute(f"CREATE ROLE {role} CREATEROLE")
    with pytest.raises(ImproperlyConfigured, match="ordinary role"):
        app_role_ensure(connection, role=role, password="x")


@pytest.mark.django_db(transaction=True)
def test_the_application_role_logs_in_and_future_tables_are_covered():
    """Committed, as in production: the role logs in with its password, reads and inserts, cannot
    disable a trigger; a table created by a later migration is granted by default privileges. The password
    is quoted into CREATE ROLE and ALTER ROLE (no bound parameters there), quotes and percent signs too."""
    role, password = _role(), "app-role-pass'word 100%s"
    settings_dict = connection.settings_dict
    try:
        app_role_ensure(connection, role=role, password="first 'password' 50%")
        app_role_ensure(connection, role=role, password=password)  # a rotation: ALTER ROLE
        execute("CREATE TABLE hopluc_later_migration (id bigint GENERATED BY DEFAULT AS IDENTITY, n int)")
        with psycopg.connect(
            host=settings_dict["HOST"] or "127.0.0.1", port=settings_dict["PORT"] or 5432,
            dbname=settings_dict["NAME"], user=role, password=password, autocommit=True, connect_timeout=5,
        ) as app:
            assert app.execute("SELECT current_user").fetchone() == (role,)
            app.execute(f"SELECT count(*) FROM {REPORTS_TABLE}")  # noqa: S608 - a constant
            app.execute("INSERT INTO hopluc_later_migration (n) VALUES (1)")
            app.execute("UPDATE hopluc_later_migration SET n = 2")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(f"ALTER TABLE {REPORTS_TABLE} DISABLE TRIGGER ALL")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(f"TRUNCATE {AUDIT_EVENT_TABLE}")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS hopluc_later_migration")
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone():
                cursor.execute(f"DROP OWNED BY {role}")  # its grants and default privileges in this database
                cursor.execute(f"DROP ROLE {role}")


def test_the_application_role_creates_audit_partitions_but_cannot_touch_them(db, settings):
    """The beat task runs as the application role, which owns no table: it creates the coming months'
    partitions through the owner's SECURITY DEFINER function, and each partition carries the parent's
    privileges, so it may not change, delete or truncate a partition directly either."""
    role = _role()
    settings.DATABASE_APP_ROLE, settings.DATABASE_APP_PASSWORD = role, "app-role-password"
    app_role_after_migrate(sender=None, using="default")
    with acting_as(role):
        with connection.cursor() as cursor:
            cursor.execute("SELECT hopluc_month_partition(%s::regclass, '2035-02-14')", [AUDIT_EVENT_TABLE])
            assert cursor.fetchone()[0] == f"{AUDIT_EVENT_TABLE}_2035_02"
        event = AuditEvent.objects.create(at=datetime.datetime(2035, 2, 14, tzinfo=datetime.UTC), action="view")
        partition = f"{AUDIT_EVENT_TABLE}_2035_02"
        _refused_for_lack_of_rights(
            f"UPDATE {partition} SET reason = 'x'",  # noqa: S608 - constants
            f"UPDATE {partition} SET hash = 'x'",  # noqa: S608
            f"DELETE FROM {partition}",  # noqa: S608
            f"TRUNCATE {partition}",
            f"TRUNCATE {AUDIT_EVENT_TABLE}_default",
            f"ALTER TABLE {partition} DISABLE TRIGGER USER",
            f"ALTER TABLE {AUDIT_EVENT_TABLE} DETACH PARTITION {partition}",
            f"DROP TABLE {partition}",
        )
        # Through the parent, as the chainer does, it fills the chain fields once.
        audit_chain_pending()
    assert AuditEvent.objects.get(seq=event.seq).position is not None


def test_the_application_role_makes_notification_partitions_and_notifies_once(world, settings):
    """Notifications (notifications/partitions.py) as the application role: the beat task creates the
    coming months' partitions through the owner's function, and notify writes the send-once key
    through the trigger, reads, marks read and deletes, each partition carrying the parent's privileges."""
    role = _role()
    settings.DATABASE_APP_ROLE, settings.DATABASE_APP_PASSWORD = role, "app-role-password"
    app_role_after_migrate(sender=None, using="default")
    user = world.receiving_responder
    with acting_as(role):
        with time_machine.travel(datetime.datetime(2036, 3, 2, tzinfo=datetime.UTC), tick=False):
            made = notification_partitions_ahead(1)
            assert made == [f"{NOTIFICATION_TABLE}_2036_03", f"{NOTIFICATION_TABLE}_2036_04"]
            event = {"kind": NotificationKind.HANDOFF_RECEIVED, "link": "/", "event_key": "handoff:9:sent"}
            [sent] = notify(recipients=[user], **event)
            assert notify(recipients=[user], **event) == []
        assert notification_mark_read(notification=sent)
        sent.delete()
        _refused_for_lack_of_rights(
            f"ALTER TABLE {NOTIFICATION_TABLE}_2036_03 DISABLE TRIGGER USER",
            f"DROP TABLE {NOTIFICATION_TABLE}_2036_04",
        )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {KEY_TABLE}")  # noqa: S608 - constant
        assert cursor.fetchone()[0] == 0
