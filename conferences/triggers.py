"""Signed minutes never change: database triggers refuse UPDATE and DELETE of a signed version of
the minutes and of its decisions, on PostgreSQL and SQLite, whatever writes (the services, the
admin, a shell, a bug). A correction is a new version (conferences.services.minutes_correct).

The one change allowed is the signing itself: the UPDATE of a draft (OLD.status = 'draft').
A refusal raises IntegrityError (SQLSTATE 23000 on PostgreSQL, RAISE(ABORT) on SQLite).
"""

from django.db import NotSupportedError

from agencies.triggers import VendorTriggers

MESSAGE = "signed minutes cannot be changed: write a correction as a new version"

_POSTGRESQL_INSTALL = [
    """
    CREATE OR REPLACE FUNCTION conferences_minutes_locked() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.status = 'signed' THEN
            RAISE EXCEPTION 'LOCK_MESSAGE' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER conferences_minutes_locked BEFORE UPDATE OR DELETE ON conferences_meetingminutes
    FOR EACH ROW EXECUTE FUNCTION conferences_minutes_locked()
    """,
    """
    CREATE OR REPLACE FUNCTION conferences_decision_locked() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM conferences_meetingminutes WHERE id = OLD.minutes_id AND status = 'signed')
           OR (TG_OP = 'UPDATE' AND EXISTS (
               SELECT 1 FROM conferences_meetingminutes WHERE id = NEW.minutes_id AND status = 'signed')) THEN
            RAISE EXCEPTION 'LOCK_MESSAGE' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER conferences_decision_locked BEFORE UPDATE OR DELETE ON conferences_minutesdecision
    FOR EACH ROW EXECUTE FUNCTION conferences_decision_locked()
    """,
    """
    CREATE OR REPLACE FUNCTION conferences_decision_insert_locked() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM conferences_meetingminutes WHERE id = NEW.minutes_id AND status = 'signed') THEN
            RAISE EXCEPTION 'LOCK_MESSAGE' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER conferences_decision_insert_locked BEFORE INSERT ON conferences_minutesdecision
    FOR EACH ROW EXECUTE FUNCTION conferences_decision_insert_locked()
    """,
]
_POSTGRESQL_REMOVE = [
    "DROP TRIGGER IF EXISTS conferences_minutes_locked ON conferences_meetingminutes",
    "DROP TRIGGER IF EXISTS conferences_decision_locked ON conferences_minutesdecision",
    "DROP TRIGGER IF EXISTS conferences_decision_insert_locked ON conferences_minutesdecision",
    "DROP FUNCTION IF EXISTS conferences_minutes_locked()",
    "DROP FUNCTION IF EXISTS conferences_decision_locked()",
    "DROP FUNCTION IF EXISTS conferences_decision_insert_locked()",
]
_SIGNED = "EXISTS (SELECT 1 FROM conferences_meetingminutes WHERE id = {row}.minutes_id AND status = 'signed')"
_SQLITE_INSTALL = [
    """
    CREATE TRIGGER conferences_minutes_locked_update BEFORE UPDATE ON conferences_meetingminutes
    WHEN OLD.status = 'signed' BEGIN SELECT RAISE(ABORT, 'LOCK_MESSAGE'); END
    """,
    """
    CREATE TRIGGER conferences_minutes_locked_delete BEFORE DELETE ON conferences_meetingminutes
    WHEN OLD.status = 'signed' BEGIN SELECT RAISE(ABORT, 'LOCK_MESSAGE'); END
    """,
    """
    CREATE TRIGGER conferences_decision_locked_update BEFORE UPDATE ON conferences_minutesdecision
    WHEN SIGNED_OLD OR SIGNED_NEW
    BEGIN SELECT RAISE(ABORT, 'LOCK_MESSAGE'); END
    """,
    """
    CREATE TRIGGER conferences_decision_locked_delete BEFORE DELETE ON conferences_minutesdecision
    WHEN SIGNED_OLD BEGIN SELECT RAISE(ABORT, 'LOCK_MESSAGE'); END
    """,
    """
    CREATE TRIGGER conferences_decision_locked_insert BEFORE INSERT ON conferences_minutesdecision
    WHEN SIGNED_NEW BEGIN SELECT RAISE(ABORT, 'LOCK_MESSAGE'); END
    """,
]
_SQLITE_REMOVE = [
    f"DROP TRIGGER IF EXISTS {name}" for name in (
        "conferences_minutes_locked_update", "conferences_minutes_locked_delete",
        "conferences_decision_locked_update", "conferences_decision_locked_delete",
        "conferences_decision_locked_insert",
    )
]


def _filled(statements: list[str]) -> list[str]:
    return [sql.replace("LOCK_MESSAGE", MESSAGE).replace("SIGNED_OLD", _SIGNED.format(row="OLD"))
            .replace("SIGNED_NEW", _SIGNED.format(row="NEW")) for sql in statements]


def _statements(vendor: str, *, install: bool) -> list[str]:
    if vendor == "postgresql":
        return _filled(_POSTGRESQL_INSTALL) if install else _POSTGRESQL_REMOVE
    if vendor == "sqlite":
        return _filled(_SQLITE_INSTALL) if install else _SQLITE_REMOVE
    raise NotSupportedError(f"The minutes triggers exist for PostgreSQL and SQLite, not {vendor}.")


def minutes_lock_remove(connection) -> None:
    """Lift the lock (the test-only `flush` empties the tables, then puts it back)."""
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, install=False):
            cursor.execute(sql)


def minutes_lock_install(connection) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, install=True):
            cursor.execute(sql)


class InstallMinutesLock(VendorTriggers):
    """Migration operation: the triggers for whichever backend the migration runs on."""

    model = ("conferences", "MeetingMinutes")
    description = "Install the triggers that refuse changes to signed minutes and their decisions"

    def statements(self, vendor: str, *, install: bool) -> list[str]:
        return _statements(vendor, install=install)
