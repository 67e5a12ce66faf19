"""Database triggers that make the audit table append-only, on PostgreSQL and SQLite.

The triggers stop the application (and anyone using its database role by mistake) from changing
history. They do not stop the table's owner, who can drop them: the hash chain and the checkpoints
outside the database are what make such tampering visible.
"""

from django.db import NotSupportedError
from django.db.migrations.operations.base import Operation

from config.triggers import execute_all

from .models import AUDIT_EVENT_TABLE

# SQLSTATE 23000 makes psycopg raise IntegrityError, as SQLite's RAISE(ABORT) does.
_POSTGRESQL_INSTALL = [
    """
    CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit events are append-only: % refused on %', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END
    $$
    """,
    f"""
    CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON {AUDIT_EVENT_TABLE}
        FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
    """,
    f"""
    CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON {AUDIT_EVENT_TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()
    """,
]
# Version 2: events are inserted unchained; the chainer fills position, prev_hash and hash once, from
# NULL, and may change nothing else. Every other UPDATE, and every DELETE and TRUNCATE, is refused.
_CHAIN_FIELDS = ("position", "prev_hash", "hash")
_CONTENT_COLUMNS = (
    "seq", "at", "actor_id", "actor_username", "agency_id", "action", "case_id", "categories", "target", "ip",
    "request_id", "reason", "details",
)
_CHAIN_FILL_PG = " AND ".join(
    [f"OLD.{name} IS NULL AND NEW.{name} IS NOT NULL" for name in _CHAIN_FIELDS]
    + ["(to_jsonb(NEW) - 'position' - 'prev_hash' - 'hash') = (to_jsonb(OLD) - 'position' - 'prev_hash' - 'hash')"]
)
_POSTGRESQL_INSTALL_V2 = [
    f"""
    CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND {_CHAIN_FILL_PG} THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit events are append-only: % refused on %', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END
    $$
    """,
    *_POSTGRESQL_INSTALL[1:],
]
# Version 3: the table may be partitioned by month (audit/partitions.py, migration 0005). A partitioned
# table can hold no unique index without the partition key, so the chain position's uniqueness across
# the whole trail is checked here instead: the chainer fills positions under the chain lock, so the
# check cannot race (each partition answers it from its position index). TRUNCATE triggers are per
# table: every partition gets its own (TRUNCATE of one partition would skip the parent's).
_POSITION_TAKEN_PG = f"""
        IF EXISTS (SELECT 1 FROM {AUDIT_EVENT_TABLE} WHERE position = NEW.position AND seq <> NEW.seq) THEN
            RAISE EXCEPTION 'audit chain position % is taken', NEW.position USING ERRCODE = 'unique_violation';
        END IF;"""  # noqa: S608 - a constant table name
_PARTITIONS_PG = f"""
    SELECT format('%I.%I', n.nspname, c.relname) AS partition FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE i.inhparent = '{AUDIT_EVENT_TABLE}'::regclass"""  # noqa: S608 - a constant table name
_POSTGRESQL_INSTALL_V3 = [
    f"""
    CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND {_CHAIN_FILL_PG} THEN{_POSITION_TAKEN_PG}
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit events are append-only: % refused on %', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END
    $$
    """,
    *_POSTGRESQL_INSTALL[1:],
    f"""
    DO $$
    DECLARE part record;
    BEGIN
        FOR part IN {_PARTITIONS_PG} LOOP
            EXECUTE format('CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON %s
                FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()', part.partition);
        END LOOP;
    END
    $$
    """,
]
_POSTGRESQL_REMOVE = [
    f"""
    DO $$
    DECLARE part record;
    BEGIN
        IF to_regclass('{AUDIT_EVENT_TABLE}') IS NOT NULL THEN
            FOR part IN {_PARTITIONS_PG} LOOP
                EXECUTE format('DROP TRIGGER IF EXISTS audit_event_no_truncate ON %s', part.partition);
            END LOOP;
        END IF;
    END
    $$
    """,
    f"DROP TRIGGER IF EXISTS audit_event_no_truncate ON {AUDIT_EVENT_TABLE}",
    f"DROP TRIGGER IF EXISTS audit_event_no_update_delete ON {AUDIT_EVENT_TABLE}",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
]

# SQLite has no TRUNCATE; an unqualified DELETE skips its truncate optimisation when a table has
# a delete trigger, so the row trigger covers it.
_SQLITE_INSTALL = [
    f"""
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON {AUDIT_EVENT_TABLE}
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END
    """,
    f"""
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON {AUDIT_EVENT_TABLE}
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused'); END
    """,
]
_CHAIN_FILL_SQLITE = " AND ".join(
    [f"OLD.{name} IS NULL AND NEW.{name} IS NOT NULL" for name in _CHAIN_FIELDS]
    + [f"NEW.{name} IS OLD.{name}" for name in _CONTENT_COLUMNS]
)
_SQLITE_INSTALL_V2 = [
    f"""
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON {AUDIT_EVENT_TABLE} WHEN NOT ({_CHAIN_FILL_SQLITE})
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END
    """,
    _SQLITE_INSTALL[1],
]
_SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
]


CURRENT_VERSION = 3
_POSTGRESQL_VERSIONS = {1: _POSTGRESQL_INSTALL, 2: _POSTGRESQL_INSTALL_V2, 3: _POSTGRESQL_INSTALL_V3}


def _statements(vendor: str, *, install: bool, version: int = CURRENT_VERSION) -> list[str]:
    if vendor == "postgresql":
        return _POSTGRESQL_VERSIONS[version] if install else _POSTGRESQL_REMOVE
    if vendor == "sqlite":
        # Version 3 changes nothing on SQLite (no partitions there; the unique index still holds).
        return (_SQLITE_INSTALL if version == 1 else _SQLITE_INSTALL_V2) if install else _SQLITE_REMOVE
    raise NotSupportedError(f"The audit trail's append-only triggers exist for PostgreSQL and SQLite, not {vendor}.")


def append_only_install(connection) -> None:
    execute_all(connection, _statements(connection.vendor, install=True))


def append_only_remove(connection) -> None:
    execute_all(connection, _statements(connection.vendor, install=False))


class InstallAppendOnlyTriggers(Operation):
    """Migration operation: the triggers for whichever backend the migration runs on. `version` 1 is the
    original (no UPDATE at all), 2 lets the chainer fill the chain fields once."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, version: int = 1):
        self.version = version

    def deconstruct(self):
        kwargs = {"version": self.version} if self.version != 1 else {}
        return self.__class__.__name__, [], kwargs

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if self.allow_migrate_model(schema_editor.connection.alias, to_state.apps.get_model("audit", "AuditEvent")):
            for sql in _statements(schema_editor.connection.vendor, install=True, version=self.version):
                schema_editor.execute(sql, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if self.allow_migrate_model(schema_editor.connection.alias, from_state.apps.get_model("audit", "AuditEvent")):
            for sql in _statements(schema_editor.connection.vendor, install=False):
                schema_editor.execute(sql, params=None)

    def describe(self):
        return "Install the append-only triggers on the audit event table"


class RemoveAppendOnlyTriggers(InstallAppendOnlyTriggers):
    """Migration operation: drop the triggers (before a table change that rebuilds the table)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        InstallAppendOnlyTriggers.database_backwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        InstallAppendOnlyTriggers.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def describe(self):
        return "Remove the append-only triggers from the audit event table"
