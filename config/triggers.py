"""SQL for the database triggers that hold the rules a stray write must not break (agencies.triggers,
reports.triggers): a PL/pgSQL trigger function and its trigger on PostgreSQL, a trigger with a WHEN
on SQLite. A refusal is SQLSTATE 23000 on PostgreSQL and RAISE(ABORT) on SQLite, which both make
Django raise IntegrityError.
"""

import re

from django.db import NotSupportedError


def pg_function(name: str, body: str) -> str:
    """A PL/pgSQL trigger function `name()` running `body` (statements, ending with its RETURN)."""
    return f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}\nEND\n$$"


def pg_trigger(name: str, event: str, function: str, *, each: str = "ROW") -> str:
    """`CREATE TRIGGER name <event> ...`, `event` as in "BEFORE INSERT OR UPDATE ON a_table"."""
    return f"CREATE TRIGGER {name} {event} FOR EACH {each} EXECUTE FUNCTION {function}()"


def pg_raise(message: str) -> str:
    """The refusal: `message` is an SQL expression of text ('a literal', or one built with ||)."""
    return f"RAISE EXCEPTION USING MESSAGE = {message}, ERRCODE = 'integrity_constraint_violation';"


def pg_check(name: str, condition: str, message: str, *, returns: str = "RETURN NEW;") -> str:
    """A trigger function that refuses the row when `condition` holds, with the literal `message`;
    otherwise it `returns` (a BEFORE DELETE trigger must return OLD for the row to go)."""
    return pg_function(name, f"IF {condition} THEN\n{pg_raise(sql_text(message))}\nEND IF;\n{returns}")


def sqlite_check(name: str, event: str, message: str, condition: str | None = None) -> str:
    """A SQLite trigger that refuses the row (when `condition` holds, if there is one)."""
    when = f" WHEN {condition}" if condition else ""
    return f"CREATE TRIGGER {name} {event}{when} BEGIN SELECT RAISE(ABORT, {sql_text(message)}); END"


def sql_text(text: str) -> str:
    """A text literal of SQL."""
    return "'" + text.replace("'", "''") + "'"


def sqlite_drops(statements: list[str]) -> list[str]:
    """What removes the SQLite triggers that `statements` create (a trigger is dropped by its name alone)."""
    return [f"DROP TRIGGER IF EXISTS {name}" for sql in statements for name in re.findall(r"CREATE TRIGGER (\w+)", sql)]


def vendor_statements(vendor: str, by_vendor: dict[str, list[str]], what: str) -> list[str]:
    """The statements of `by_vendor` ({"postgresql": [...], "sqlite": [...]}) for the database `vendor`;
    NotSupportedError for another, naming `what` ("The minutes triggers")."""
    if vendor not in by_vendor:
        raise NotSupportedError(f"{what} exist for PostgreSQL and SQLite, not {vendor}.")
    return by_vendor[vendor]


def execute_all(connection, statements: list[str]) -> None:
    """Run `statements` on `connection` outside a migration (the test-only `flush` lifts triggers and
    puts them back this way)."""
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
