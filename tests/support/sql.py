"""Raw SQL on the test database, for tests that work below the ORM (roles, triggers)."""

from django.db import connection


def execute(*statements: str) -> None:
    """Run each statement, in order, on the default connection."""
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _one(sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def primary_key(table: str) -> str:
    """The table's primary key as PostgreSQL declares it: "PRIMARY KEY (seq, at)"."""
    return _one("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
                [table])


def partition_key(table: str) -> str:
    """How a partitioned table is split: "RANGE (at)"."""
    return _one("SELECT pg_get_partkeydef(%s::regclass)", [table])
