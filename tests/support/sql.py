"""Raw SQL on the test database, for tests that work below the ORM (roles, triggers)."""

from django.db import connection


def execute(*statements: str) -> None:
    """Run each statement, in order, on the default connection."""
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
