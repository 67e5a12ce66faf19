"""Signed minutes never change: database triggers refuse UPDATE and DELETE of a signed version of
the minutes and of its decisions, on PostgreSQL and SQLite, whatever writes (the services, the
admin, a shell, a bug). A correction is a new version (conferences.services.minutes_correct).

The one change allowed is the signing itself: the UPDATE of a draft (OLD.status = 'draft').
A refusal raises IntegrityError (SQLSTATE 23000 on PostgreSQL, RAISE(ABORT) on SQLite).
"""

from agencies.triggers import VendorTriggers
from config.triggers import execute_all, pg_check, pg_trigger, sqlite_check, sqlite_drops, vendor_statements

MESSAGE = "signed minutes cannot be changed: write a correction as a new version"

_MINUTES = "conferences_meetingminutes"
_DECISIONS = "conferences_minutesdecision"


def _signed(row: str) -> str:
    """The minutes of the decision `row` (OLD or NEW) are signed."""
    return f"EXISTS (SELECT 1 FROM {_MINUTES} WHERE id = {row}.minutes_id AND status = 'signed')"  # noqa: S608 (no input: OLD or NEW)


# UPDATE or DELETE: a BEFORE DELETE trigger lets the row go by returning OLD.
_ROW_KEPT = "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\nRETURN NEW;"
_POSTGRESQL_INSTALL = [
    pg_check("conferences_minutes_locked", "OLD.status = 'signed'", MESSAGE, returns=_ROW_KEPT),
    pg_trigger("conferences_minutes_locked", f"BEFORE UPDATE OR DELETE ON {_MINUTES}", "conferences_minutes_locked"),
    pg_check("conferences_decision_locked", f"{_signed('OLD')} OR (TG_OP = 'UPDATE' AND {_signed('NEW')})", MESSAGE,
             returns=_ROW_KEPT),
    pg_trigger("conferences_decision_locked", f"BEFORE UPDATE OR DELETE ON {_DECISIONS}",
               "conferences_decision_locked"),
    pg_check("conferences_decision_insert_locked", _signed("NEW"), MESSAGE),
    pg_trigger("conferences_decision_insert_locked", f"BEFORE INSERT ON {_DECISIONS}",
               "conferences_decision_insert_locked"),
]
_POSTGRESQL_REMOVE = [
    f"DROP TRIGGER IF EXISTS conferences_minutes_locked ON {_MINUTES}",
    f"DROP TRIGGER IF EXISTS conferences_decision_locked ON {_DECISIONS}",
    f"DROP TRIGGER IF EXISTS conferences_decision_insert_locked ON {_DECISIONS}",
    "DROP FUNCTION IF EXISTS conferences_minutes_locked()",
    "DROP FUNCTION IF EXISTS conferences_decision_locked()",
    "DROP FUNCTION IF EXISTS conferences_decision_insert_locked()",
]
_SQLITE_INSTALL = [
    sqlite_check("conferences_minutes_locked_update", f"BEFORE UPDATE ON {_MINUTES}", MESSAGE, "OLD.status = 'signed'"),
    sqlite_check("conferences_minutes_locked_delete", f"BEFORE DELETE ON {_MINUTES}", MESSAGE, "OLD.status = 'signed'"),
    sqlite_check("conferences_decision_locked_update", f"BEFORE UPDATE ON {_DECISIONS}", MESSAGE,
                 f"{_signed('OLD')} OR {_signed('NEW')}"),
    sqlite_check("conferences_decision_locked_delete", f"BEFORE DELETE ON {_DECISIONS}", MESSAGE, _signed("OLD")),
    sqlite_check("conferences_decision_locked_insert", f"BEFORE INSERT ON {_DECISIONS}", MESSAGE, _signed("NEW")),
]
_SQLITE_REMOVE = sqlite_drops(_SQLITE_INSTALL)


_INSTALL = {"postgresql": _POSTGRESQL_INSTALL, "sqlite": _SQLITE_INSTALL}
_REMOVE = {"postgresql": _POSTGRESQL_REMOVE, "sqlite": _SQLITE_REMOVE}


def _statements(vendor: str, *, install: bool) -> list[str]:
    return vendor_statements(vendor, _INSTALL if install else _REMOVE, "The minutes triggers")


def minutes_lock_remove(connection) -> None:
    """Lift the lock (the test-only `flush` empties the tables, then puts it back)."""
    execute_all(connection, _statements(connection.vendor, install=False))


def minutes_lock_install(connection) -> None:
    execute_all(connection, _statements(connection.vendor, install=True))


class LiftMinutesLock(VendorTriggers):
    """Migration operation, the inverse of InstallMinutesLock: remove the triggers for the operations that
    follow it in one migration, which InstallMinutesLock puts back. The one use: conferences 0003 seals the
    correction reasons that signed minutes already held in plaintext (and, on SQLite, rebuilds the table,
    which would drop its triggers anyway). Nothing else writes to signed minutes."""

    model = ("conferences", "MeetingMinutes")
    description = "Remove the triggers that refuse changes to signed minutes, until they are installed again"

    def statements(self, vendor: str, *, install: bool) -> list[str]:
        return _statements(vendor, install=not install)


class InstallMinutesLock(VendorTriggers):
    """Migration operation: the triggers for whichever backend the migration runs on."""

    model = ("conferences", "MeetingMinutes")
    description = "Install the triggers that refuse changes to signed minutes and their decisions"

    def statements(self, vendor: str, *, install: bool) -> list[str]:
        return _statements(vendor, install=install)
