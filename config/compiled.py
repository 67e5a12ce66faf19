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
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

try:
    from psycopg import _queries as _psycopg_queries
except ImportError:  # pragma: no cover - PostgreSQL's driver is in every installation's requirements
    _psycopg_queries = None

# psycopg converts a statement's placeholders once and keeps the result for statements of at most 4096
# bytes and 50 parameters: a longer one, such as the case read's statement of the case with the reader's
# access rows (4.3 kB), was converted anew at every execution (44 µs of CPU). Its cache (128 statements)
# keeps the longer ones too.
if _psycopg_queries is not None:
    _psycopg_queries.MAX_CACHED_STATEMENT_LENGTH = max(_psycopg_queries.MAX_CACHED_STATEMENT_LENGTH, 16384)
    _psycopg_queries.MAX_CACHED_STATEMENT_PARAMS = max(_psycopg_queries.MAX_CACHED_STATEMENT_PARAMS, 128)

# Values no real row carries: ids beyond any sequence a deployment reaches, a datetime of 1901. An
# "int32" is compared with a 32-bit integer (a COUNT, an integer column): beyond that range the ORM
# knows the comparison's answer and writes no parameter, so its stand-in is within it.
_INT_BASE = 8_100_000_000_000_017
_INT32_BASE = 2_100_000_017
_DATETIME_BASE = datetime.datetime(1901, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)
# No form or choice offers text between invisible separators.
_STR_MARK = "\u2063"

KINDS = ("int", "int32", "datetime", "str")


def _sentinel(kind: str, index: int):
    if kind == "int":
        return _INT_BASE + 1_000_003 * index
    if kind == "int32":
        return _INT32_BASE + 1_009 * index
    if kind == "datetime":
        return _DATETIME_BASE + datetime.timedelta(seconds=index, microseconds=index + 1)
    if kind == "str":
        return f"{_STR_MARK}compiled value {index}{_STR_MARK}"
    raise ValueError(f"unknown kind {kind!r}: one of {KINDS}")


def _alias(model) -> str:
    """The database a query of `model` reads, as the router chooses it (`default` without a model)."""
    return router.db_for_read(model) if model is not None else "default"


def _converted(rows: list[tuple], converters: tuple, connection) -> list[list]:
    """The rows as lists, with the fields' conversions from the database applied as the ORM's compiler applies
    them: `converters` are (position, (functions, expression)) pairs, as `_row_converters` gives them."""
    converted = []
    for row in rows:
        values = list(row)
        for position, (functions, expression) in converters:
            value = values[position]
            for convert in functions:
                value = convert(value, expression, connection)
            values[position] = value
        converted.append(values)
    return converted


def _row_converters(compiler) -> tuple:
    """The conversions the compiler applies to the columns of its rows (for _converted)."""
    return tuple(compiler.get_converters([column[0] for column in compiler.select[:compiler.col_count]]).items())


class CompiledQuery:
    """`build(**values)` returns the queryset (a values_list or union of them, or any queryset whose
    rows are read as tuples); `values` names each changing value with its kind (one of KINDS).
    `rows(**values)` runs it: a list of tuples, as `build(**values)` would give them."""

    def __init__(self, build: Callable[..., QuerySet], **kinds: str):
        for kind in kinds.values():
            _sentinel(kind, 0)
        self._build = build
        self._kinds = kinds
        self._compiled: dict[str, tuple[str, tuple[tuple[str | None, Any], ...]]] = {}

    # What the query is, in the error _recompiled raises.
    _noun = "compiled"

    def _sentinels(self) -> dict[str, Any]:
        """Each value's stand-in, by name: what the query is built with to be compiled."""
        return {name: _sentinel(kind, index) for index, (name, kind) in enumerate(self._kinds.items())}

    def _check_values(self, values: dict) -> None:
        if set(values) != set(self._kinds):
            raise TypeError(f"values for {sorted(self._kinds)} expected, got {sorted(values)}")

    def sql(self, using: str, wrap: str = "%s") -> tuple[str, tuple[tuple[str | None, Any], ...]]:
        """The SQL (inside `wrap`) and, for each parameter, the name of the value it takes with the type to
        wrap it in (None: as given), or (None, constant)."""
        key = f"{using}\0{wrap}"
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(using, wrap)
        return compiled

    def _compile(self, using: str, wrap: str):
        sentinels = self._sentinels()
        queryset = self._build(**sentinels)
        sql, params = queryset.query.get_compiler(using).as_sql()
        slots: list[tuple[str | None, Any]] = []
        for param in params:
            # The ORM may pass a value as a subclass that tells the driver its type (psycopg's Int4 and
            # Int8 for integer fields, under server-side binding): a named slot keeps that type to
            # wrap the value of each call in (None: the value as given).
            name = next((n for n, s in sentinels.items() if isinstance(param, type(s)) and param == s), None)
            if name is None:
                slots.append((None, param))
            else:
                slots.append((name, type(param) if type(param) is not type(sentinels[name]) else None))
        for name, sentinel in sentinels.items():
            if name not in {slot for slot, _constant in slots}:
                raise ValueError(f"{name} is not a parameter of the compiled query as it was given")
            if str(sentinel) in sql or any(str(sentinel) in str(p) and p != sentinel for p in params):
                raise ValueError(f"{name} went into the compiled query other than as a parameter")
        return wrap % sql, tuple(slots)

    def sql_with(self, using: str, **expressions: str) -> tuple[str, tuple[tuple[str | None, Any], ...]]:
        """The compiled SQL on `using` (PostgreSQL) with the named values taken from SQL expressions of
        the statement it is put in (e.g. a column of a LATERAL join's outer side) instead of parameters;
        and the slots of the parameters that remain (for `params_of`)."""
        sql, slots = self.sql(using)
        pieces = sql.split("%s")
        if "%%" in sql or len(pieces) != len(slots) + 1:
            raise ValueError("the compiled SQL has placeholders other than its parameters'")
        if not set(expressions) <= {name for name, _constant in slots}:
            raise ValueError(f"{sorted(expressions)} are not all values of the compiled query")
        written, kept = [pieces[0]], []
        for (name, constant), piece in zip(slots, pieces[1:], strict=True):
            if name in expressions:
                written.append(expressions[name])
            else:
                written.append("%s")
                kept.append((name, constant))
            written.append(piece)
        return "".join(written), tuple(kept)

    @staticmethod
    def params_of(slots: tuple[tuple[str | None, Any], ...], **values) -> list:
        """The parameters of these slots (as `sql` or `sql_with` give them) with these values."""
        return [(values[name] if constant is None else constant(values[name])) if name is not None else constant
                for name, constant in slots]

    def params(self, using: str, **values) -> list:
        """The parameters of the compiled SQL on `using` (PostgreSQL) with these values: what `rows` sends,
        for SQL that puts this query inside another (as `extra` of the other's `rows`)."""
        return self.params_of(self.sql(using)[1], **values)

    def rows(self, *, wrap: str = "%s", extra: tuple = (), model=None, **values) -> list[tuple]:
        """The rows of the query with these values. `wrap` puts the query inside other SQL (its "%s"),
        e.g. "SELECT COUNT(*) FROM (%s) counted" or "%s LIMIT %%s", whose own parameters are `extra`;
        `model` chooses the database as the router reads it."""
        self._check_values(values)
        using = _alias(model)
        connection = connections[using]
        if connection.vendor != "postgresql":
            queryset = self._build(**values)
            if wrap == "%s" and not extra:
                return [tuple(row) if isinstance(row, tuple) else (row,) for row in queryset.using(using)]
            sql, params = queryset.query.get_compiler(using).as_sql()
            with connection.cursor() as cursor:
                cursor.execute(wrap % sql, [*params, *extra])
                return cursor.fetchall()
        sql, _slots = self.sql(using, wrap)
        params = [*self.params(using, **values), *extra]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _built(self, using: str, values: dict) -> QuerySet:
        """The queryset with these values on `using`: what runs where nothing is compiled (not PostgreSQL)."""
        self._check_values(values)
        return self._build(**values).using(using)

    def _refusal(self, queryset: QuerySet) -> str | None:
        """Why a query built like this one cannot have its rows read back from the compiled SQL (None: it can)."""
        return None

    def _recompiled(self, using: str):
        """The compiler of the query built again with the stand-ins, checked to write the SQL that `sql` gave (and
        that `rows` runs): what reads its rows back (model readers, conversions) is taken off this compiler."""
        sql, _slots = self.sql(using)
        queryset = self._build(**self._sentinels())
        refusal = self._refusal(queryset)
        if refusal is not None:
            raise ValueError(refusal)
        compiler = queryset.query.get_compiler(using)
        if compiler.as_sql()[0] != sql:
            raise ValueError(f"the {self._noun} query compiles to other SQL the second time")
        return compiler


class CompiledModels(CompiledQuery):
    """As CompiledQuery, for a queryset of model instances (with its select_related and annotations):
    `objects(**values)` returns the instances `list(build(**values))` gives, with the fields' own
    conversions from the database (encrypted text, JSON) applied as the ORM applies them. Not for a
    queryset with prefetch_related (refused when compiled)."""

    _noun = "model"

    def __init__(self, build: Callable[..., QuerySet], **kinds: str):
        super().__init__(build, **kinds)
        self._readers: dict[str, tuple] = {}

    def _refusal(self, queryset: QuerySet) -> str | None:
        return "a compiled model query cannot prefetch" if queryset._prefetch_related_lookups else None

    def _reader(self, using: str) -> tuple:
        """What turns a row into instances, as ModelIterable reads it off the compiler that wrote the SQL."""
        reader = self._readers.get(using)
        if reader is None:
            compiler = self._recompiled(using)
            select, klass_info = compiler.select, compiler.klass_info
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            reader = self._readers[using] = (
                klass_info["model"], start, end,
                [column[0].target.attname for column in select[start:end]],
                get_related_populators(klass_info, select, using),
                tuple((compiler.annotation_col_map or {}).items()),
                _row_converters(compiler),
                compiler.col_count,
            )
        return reader

    def objects(self, *, model=None, **values) -> list:
        """The instances of the query with these values (`model` chooses the database, as in `rows`)."""
        using = _alias(model)
        if connections[using].vendor != "postgresql":
            return list(self._built(using, values))
        return self._instances(using, self.rows(model=model, **values))

    def objects_and_columns(self, *, wrap: str, extra: tuple = (), model=None, **values) -> list[tuple[Any, tuple]]:
        """PostgreSQL only: the instances of the query run inside `wrap` (as in `rows`), each with the
        columns `wrap` selects after the query's own ("SELECT q.*, more FROM (%s) q ..."), as read."""
        using = _alias(model)
        if connections[using].vendor != "postgresql":
            raise ValueError("objects_and_columns reads PostgreSQL only")
        rows = self.rows(wrap=wrap, extra=extra, model=model, **values)
        width = self._reader(using)[-1]
        return list(zip(self._instances(using, rows), (tuple(row[width:]) for row in rows), strict=True))

    def _instances(self, using: str, rows: list[tuple]) -> list:
        model_cls, start, end, init_list, populators, annotations, converters, _width = self._reader(using)
        connection = connections[using]
        instances = []
        for row in _converted(rows, converters, connection) if converters else rows:
            instance = model_cls.from_db(using, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, instance)
            for name, position in annotations:
                setattr(instance, name, row[position])
            instances.append(instance)
        return instances


_Compiled = TypeVar("_Compiled", bound=CompiledQuery)


class _ByShape(Generic[_Compiled]):
    """A compiled query (of `compiled_class`) for each value of a key that changes the SQL itself, not only
    its values: a list of constants whose length varies (e.g. the data categories a reader sees, a few dozen
    sets at most). `build(key, **values)`. The key must be hashable and come from a small set: each one
    compiles once per process."""

    compiled_class: type[_Compiled]

    def __init__(self, build: Callable[..., QuerySet], **kinds: str):
        self._build = build
        self._kinds = kinds
        self._shapes: dict[Any, _Compiled] = {}

    def _shape(self, key) -> _Compiled:
        compiled = self._shapes.get(key)
        if compiled is None:
            compiled = self._shapes[key] = self.compiled_class(lambda **given: self._build(key, **given), **self._kinds)
        return compiled


class CompiledModelsByShape(_ByShape[CompiledModels]):
    """CompiledModels for each shape of the SQL (_ByShape): `objects(key, **values)`."""

    compiled_class = CompiledModels

    def objects(self, key, *, model=None, **values) -> list:
        return self._shape(key).objects(model=model, **values)


class CompiledValues(CompiledQuery):
    """As CompiledQuery, for a `values_list` queryset: `values(**values)` returns the tuples
    `list(build(**values))` gives, with the fields' own conversions from the database (sealed text left
    sealed until opened, JSON decoded) applied as the ORM applies them, and no model instance built.
    The queryset must select its columns in the order it names them (its annotations last)."""

    _noun = "values"

    def __init__(self, build: Callable[..., QuerySet], **kinds: str):
        super().__init__(build, **kinds)
        self._converters: dict[str, tuple] = {}

    def _refusal(self, queryset: QuerySet) -> str | None:
        query = queryset.query
        named = [*query.extra_select, *query.values_select, *query.annotation_select]
        if not queryset._fields or list(queryset._fields) != named or queryset._prefetch_related_lookups:
            return ("a compiled values query names its columns in the order it selects them, annotations last, "
                    "and does not prefetch")
        return None

    def _converters_of(self, using: str) -> tuple:
        converters = self._converters.get(using)
        if converters is None:
            converters = self._converters[using] = _row_converters(self._recompiled(using))
        return converters

    def values(self, *, model=None, **values) -> list[tuple]:
        """The tuples of the query with these values (`model` chooses the database, as in `rows`)."""
        using = _alias(model)
        if connections[using].vendor != "postgresql":
            return [tuple(row) for row in self._built(using, values)]
        rows = self.rows(model=model, **values)
        converters = self._converters_of(using)
        if not converters:
            return rows
        connection = connections[using]
        return [tuple(row) for row in _converted(rows, converters, connection)]


class CompiledValuesByShape(_ByShape[CompiledValues]):
    """CompiledValues for each shape of the SQL (_ByShape): `values(key, **values)`."""

    compiled_class = CompiledValues

    def values(self, key, *, model=None, **values) -> list[tuple]:
        return self._shape(key).values(model=model, **values)
