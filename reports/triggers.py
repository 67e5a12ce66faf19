"""A database trigger that refuses any UPDATE of a published monthly report, on PostgreSQL and
SQLite. The model refuses save() on an existing row; the trigger also stops queryset.update() and
anyone writing to the table with the application's database role.

DELETE is left to the database owner on purpose: a report later found to disclose someone must be
withdrawable, and test databases are emptied with DELETE/TRUNCATE.
"""

from django.db import NotSupportedError

TABLE = "reports_monthlyreport"

_INSTALL = {
    "postgresql": [
        """
        CREATE OR REPLACE FUNCTION reports_monthly_report_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION USING
                MESSAGE = 'published monthly reports are immutable: UPDATE refused on ' || TG_TABLE_NAME,
                ERRCODE = 'integrity_constraint_violation';
        END
        $$
        """,
        f"""
        CREATE TRIGGER monthly_report_no_update BEFORE UPDATE ON {TABLE}
            FOR EACH ROW EXECUTE FUNCTION reports_monthly_report_immutable()
        """,
    ],
    "sqlite": [
        f"""
        CREATE TRIGGER monthly_report_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'published monthly reports are immutable: UPDATE refused'); END
        """,
    ],
}
_REMOVE = {
    "postgresql": [
        f"DROP TRIGGER IF EXISTS monthly_report_no_update ON {TABLE}",
        "DROP FUNCTION IF EXISTS reports_monthly_report_immutable()",
    ],
    "sqlite": ["DROP TRIGGER IF EXISTS monthly_report_no_update"],
}


def _run(schema_editor, statements: dict[str, list[str]]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in statements:
        raise NotSupportedError(f"The monthly report trigger exists for PostgreSQL and SQLite, not {vendor}.")
    for sql in statements[vendor]:
        schema_editor.execute(sql)


def install(apps, schema_editor) -> None:
    _run(schema_editor, _INSTALL)


def remove(apps, schema_editor) -> None:
    _run(schema_editor, _REMOVE)
