"""Database triggers that keep published monthly reports as they were published, on PostgreSQL and
SQLite: UPDATE is refused (migration 0001), and so are DELETE and TRUNCATE (migration 0002), so a
report cannot be replaced by deleting it and inserting an altered copy with the same id, version
and a recomputed hash. The model refuses save() on an existing row and delete(); the triggers also
stop querysets and anyone writing to the table with the application's database role, which does
not own the table and so can neither drop nor disable them (see the README, "Database roles").

Withdrawing a report later found to disclose someone is a deliberate act of the table's owner (the
migration role): disable the triggers in a reviewed maintenance session, or ship a migration.
Test databases are emptied by `flush`, which lifts the DELETE/TRUNCATE triggers for its length
(`remove_no_delete` / `install_no_delete`).
"""


from config.triggers import execute_all, pg_function, pg_raise, pg_trigger, sqlite_check, vendor_statements

TABLE = "reports_monthlyreport"

_INSTALL = {
    "postgresql": [
        pg_function("reports_monthly_report_immutable", pg_raise(
            "'published monthly reports are immutable: UPDATE refused on ' || TG_TABLE_NAME")),
        pg_trigger("monthly_report_no_update", f"BEFORE UPDATE ON {TABLE}", "reports_monthly_report_immutable"),
    ],
    "sqlite": [
        sqlite_check("monthly_report_no_update", f"BEFORE UPDATE ON {TABLE}",
                     "published monthly reports are immutable: UPDATE refused"),
    ],
}
_REMOVE = {
    "postgresql": [
        f"DROP TRIGGER IF EXISTS monthly_report_no_update ON {TABLE}",
        "DROP FUNCTION IF EXISTS reports_monthly_report_immutable()",
    ],
    "sqlite": ["DROP TRIGGER IF EXISTS monthly_report_no_update"],
}


# Migration 0002: DELETE and TRUNCATE. SQLSTATE 23000 makes psycopg raise IntegrityError, as
# SQLite's RAISE(ABORT) does. SQLite has no TRUNCATE; an unqualified DELETE skips its truncate
# optimisation when the table has a delete trigger, so the row trigger covers it.
_INSTALL_NO_DELETE = {
    "postgresql": [
        pg_function("reports_monthly_report_kept", pg_raise(
            "'published monthly reports are immutable: ' || TG_OP || ' refused on ' || TG_TABLE_NAME")),
        pg_trigger("monthly_report_no_delete", f"BEFORE DELETE ON {TABLE}", "reports_monthly_report_kept"),
        pg_trigger("monthly_report_no_truncate", f"BEFORE TRUNCATE ON {TABLE}", "reports_monthly_report_kept",
                   each="STATEMENT"),
    ],
    "sqlite": [
        sqlite_check("monthly_report_no_delete", f"BEFORE DELETE ON {TABLE}",
                     "published monthly reports are immutable: DELETE refused"),
    ],
}
_REMOVE_NO_DELETE = {
    "postgresql": [
        f"DROP TRIGGER IF EXISTS monthly_report_no_truncate ON {TABLE}",
        f"DROP TRIGGER IF EXISTS monthly_report_no_delete ON {TABLE}",
        "DROP FUNCTION IF EXISTS reports_monthly_report_kept()",
    ],
    "sqlite": ["DROP TRIGGER IF EXISTS monthly_report_no_delete"],
}


def _statements(vendor: str, statements: dict[str, list[str]]) -> list[str]:
    return vendor_statements(vendor, statements, "The monthly report triggers")


def _run(schema_editor, statements: dict[str, list[str]]) -> None:
    for sql in _statements(schema_editor.connection.vendor, statements):
        schema_editor.execute(sql)


# Migration 0001: UPDATE. These two stay as they are: 0001 runs them on every new database.
def install(apps, schema_editor) -> None:
    _run(schema_editor, _INSTALL)


def remove(apps, schema_editor) -> None:
    _run(schema_editor, _REMOVE)


def install_no_delete(apps, schema_editor) -> None:
    _run(schema_editor, _INSTALL_NO_DELETE)


def remove_no_delete(apps, schema_editor) -> None:
    _run(schema_editor, _REMOVE_NO_DELETE)


def no_delete_install(connection) -> None:
    """The DELETE/TRUNCATE triggers on a connection (for `flush`, which lifts them)."""
    execute_all(connection, _statements(connection.vendor, _INSTALL_NO_DELETE))


def no_delete_remove(connection) -> None:
    execute_all(connection, _statements(connection.vendor, _REMOVE_NO_DELETE))
