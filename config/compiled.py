"""Querysets compiled once and run again with new values (issue 15: the case list's hot path).

Building a queryset with conditions on related rows, EXISTS subqueries and a UNION, then compiling
it to SQL, costs a request a few milliseconds of Python, every time, for SQL that is the same every
time but for its values. A `CompiledQuery` builds the queryset once through the ORM, with stand-in
values (sentinels) for what changes from one call to the next, remembers the SQL and where in its
parameters each stand-in went, and then runs that SQL with the call's values. The conditions stay
written once, in the ORM, where they are read and tested; only their compilation is remembered.

It refuses to remember what it could get wrong: a value the ORM did not pass through as a parameter
as it was given (inlined into the SQL, or transformed, as `icontains` wraps a string) makes the
first call fail loudly. On a database other than PostgreSQL (where the ORM adapts values, e.g.
datetimes to text on SQLite) nothing is remembered: each call builds the queryset and the ORM runs it.
"""

import datetime
from collections.abc import Callable
from typing import Any

from django.db import connections, router
from django.db.models import QuerySet

# Values no real row carries: ids beyond any sequence a deployment reaches, a datetime of 1901. An
# "int32" is compared with a 32-bit integer (a COUNT, an integer column): beyond that range the ORM
# knows the comparison's answer and writes no parameter, so its stand-in is within it.
_INT_BASE = 8_100_000_000_000_017
_INT32_BASE = 2_100_000_017
_DATETIME_BASE = datetime.datetime(1901, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)

KINDS = ("int", "int32", "datetime")


def _sentinel(kind: str, index: int):
    if kind == "int":
        return _INT_BASE + 1_000_003 * index
    if kind == "int32":
        return _INT32_BASE + 1_009 * index
    if kind == "datetime":
        return _DATETIME_BASE + datetime.timedelta(seconds=index, microseconds=index + 1)
    raise ValueError(f"unknown kind {kind!r}: one of {KINDS}")


class CompiledQuery:
    """`build(**values)` returns the queryset (a values_list or union of them, or any queryset whose
    rows are read as tuples); `values` names each changing value with its kind ("int", "int32" or "datetime").
    `rows(**values)` runs it: a list of tuples, as `build(**values)` would give them."""

    def __init__(self, build: Callable[..., QuerySet], **kinds: str):
        for kind in kinds.values():
            _sentinel(kind, 0)
        self._build = build
        self._kinds = kinds
        self._compiled: dict[str, tuple[str, tuple[tuple[str | None, Any], ...]]] = {}

    def sql(self, using: str, wrap: str = "%s") -> tuple[str, tuple[tuple[str | None, Any], ...]]:
        """The SQL (inside `wrap`) and, for each parameter, the name of the value it takes or (None, constant)."""
        key = f"{using}\0{wrap}"
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(using, wrap)
        return compiled

    def _compile(self, using: str, wrap: str):
        sentinels = {name: _sentinel(kind, index) for index, (name, kind) in enumerate(self._kinds.items())}
        queryset = self._build(**sentinels)
        sql, params = queryset.query.get_compiler(using).as_sql()
        slots: list[tuple[str | None, Any]] = []
        for param in params:
            name = next((n for n, s in sentinels.items() if type(param) is type(s) and param == s), None)
            if name is None and isinstance(param, int) and type(param) is not bool:
                # An "int32" as the backend typed it for its field (psycopg's Int4): typed so again.
                name = next((n for n, s in sentinels.items() if type(s) is int and param == s), None)
                if name is not None:
                    slots.append((name, type(param)))
                    continue
            slots.append((name, None if name else param))
        for name, sentinel in sentinels.items():
            if name not in {slot for slot, _constant in slots}:
                raise ValueError(f"{name} is not a parameter of the compiled query as it was given")
            if str(sentinel) in sql or any(str(sentinel) in str(p) and p != sentinel for p in params):
                raise ValueError(f"{name} went into the compiled query other than as a parameter")
        return wrap % sql, tuple(slots)

    def rows(self, *, wrap: str = "%s", extra: tuple = (), model=None, **values) -> list[tuple]:
        """The rows of the query with these values. `wrap` puts the query inside other SQL (its "%s"),
        e.g. "SELECT COUNT(*) FROM (%s) counted" or "%s LIMIT %%s", whose own parameters are `extra`;
        `model` chooses the database as the router reads it."""
        if set(values) != set(self._kinds):
            raise TypeError(f"values for {sorted(self._kinds)} expected, got {sorted(values)}")
        using = router.db_for_read(model) if model is not None else "default"
        connection = connections[using]
        if connection.vendor != "postgresql":
            queryset = self._build(**values)
            if wrap == "%s" and not extra:
                return [tuple(row) if isinstance(row, tuple) else (row,) for row in queryset.using(using)]
            sql, params = queryset.query.get_compiler(using).as_sql()
            with connection.cursor() as cursor:
                cursor.execute(wrap % sql, [*params, *extra])
                return cursor.fetchall()
        sql, slots = self.sql(using, wrap)
        params = [*(constant if name is None else values[name] if constant is None else constant(values[name])
                    for name, constant in slots), *extra]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
