"""One row of a model by simple conditions, with the statement written once per process.

For the few reads every request makes before its view (its session, its user): building
`Model.objects.get(...)` through the ORM costs ten times the CPU of sending the statement. `row_get`
sends the SELECT the ORM would (every concrete column, the same conditions, parameters prepared by the
fields as the ORM's lookups prepare them), applies the same converters to what comes back and returns
the instance `from_db` makes, as the ORM does. It reads on the router's alias for reads.
"""

from __future__ import annotations

import functools

from django.db import connections, router

# The comparisons row_get offers: those of `field=value` and `field__gt=value`.
_OPERATORS = {"exact": "=", "gt": ">"}


@functools.cache
def _select(model, alias: str, conditions: tuple[tuple[str, str], ...], table_alias: str,
            extra: str) -> tuple[str, list[str], list, list]:
    """(SQL, attribute names, columns, condition fields) of reading `model` on `alias` where each
    (field name, operator) holds, with `extra` columns after the model's; made once per process."""
    quote = connections[alias].ops.quote_name
    table = model._meta.db_table
    name = table_alias or quote(table)
    fields = model._meta.concrete_fields
    columns = ", ".join(f"{name}.{quote(field.column)}" for field in fields)
    if extra:
        columns = f"{columns}, {extra}"
    where_fields = [model._meta.pk if field == "pk" else model._meta.get_field(field) for field, _op in conditions]
    where = " AND ".join(
        f"{name}.{quote(field.column)} {_OPERATORS[op]} %s"
        for field, (_field, op) in zip(where_fields, conditions, strict=True)
    )
    # Only quoted names (and the caller's fixed extra columns) are formatted in; every value is a parameter.
    sql = f"SELECT {columns} FROM {quote(table)} {table_alias} WHERE {where}"  # noqa: S608
    return sql, [field.attname for field in fields], [field.get_col(table) for field in fields], where_fields


def row_get(model, *, extra: tuple[str, list] | None = None, table_alias: str = "", **conditions):
    """The instance `model.objects.filter(**conditions).first()` would give when at most one row can
    match (a key among the conditions), or None. Conditions: `field=value`, `pk=value`,
    `field__gt=value`.

    `extra` = (columns, their parameters): more columns, written by the caller as fixed SQL over the
    row (named `table_alias` in the FROM clause), read in the same statement; with them the answer is
    (instance, their values as read) or None."""
    db_alias = router.db_for_read(model)
    connection = connections[db_alias]
    extra_sql, extra_params = extra if extra else ("", [])
    sql, attnames, columns, where_fields = _select(model, db_alias, _parsed(conditions), table_alias, extra_sql)
    row = _fetch_one(connection, sql, [*extra_params, *_prepared(connection, where_fields, conditions)])
    if row is None:
        return None
    values, extra_values = list(row[:len(columns)]), tuple(row[len(columns):])
    instance = model.from_db(db_alias, attnames, _converted(connection, columns, values))
    return (instance, extra_values) if extra else instance


def _parsed(conditions: dict) -> tuple[tuple[str, str], ...]:
    return tuple((name.split("__")[0], name.split("__")[1] if "__" in name else "exact") for name in conditions)


def _prepared(connection, where_fields, conditions: dict) -> list:
    """The conditions' values as the ORM's lookups prepare them: a value a field cannot take raises as it
    does there."""
    return [field.get_db_prep_value(field.get_prep_value(value), connection)
            for field, value in zip(where_fields, conditions.values(), strict=True)]


def _fetch_one(connection, sql: str, params: list):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


@functools.cache
def _joined(model, other, alias: str, conditions: tuple[tuple[str, str], ...], other_alias: str,
            extra: str) -> tuple[str, list[str], list, list[str], list, list]:
    """`_select` of `model` with the row of `other` whose key is a parameter LEFT JOINed (as
    `other_alias`), and `extra` columns after both; made once per process."""
    quote = connections[alias].ops.quote_name
    sql, attnames, columns, where_fields = _select(model, alias, conditions, "", "")
    fields = other._meta.concrete_fields
    other_columns = ", ".join(f"{other_alias}.{quote(field.column)}" for field in fields)
    select, where = sql.split(" FROM ", 1)
    table, where = where.split(" WHERE ", 1)
    joined = f"{other_alias}.{quote(other._meta.pk.column)} = %s"
    # Only quoted names (and the caller's fixed extra columns) are formatted in; every value is a parameter.
    sql = (f"{select}, {other_columns}{', ' + extra if extra else ''} FROM {table} "  # noqa: S608
           f"LEFT JOIN {quote(other._meta.db_table)} {other_alias} ON {joined} WHERE {where}")
    return (sql, attnames, columns, where_fields, [field.attname for field in fields],
            [field.get_col(other._meta.db_table) for field in fields])


def _converted(connection, columns, values) -> list:
    for index, column in enumerate(columns):
        for converter in (*connection.ops.get_db_converters(column), *column.get_db_converters(connection)):
            values[index] = converter(values[index], column, connection)
    return values


def row_get_with(model, other, other_pk, *, other_alias: str, other_extra: tuple[str, list] | None = None,
                 **conditions):
    """row_get(model, **conditions) and, in the same statement, row_get(other, pk=other_pk) with the
    `other_extra` columns over it (written by the caller as fixed SQL over the row named `other_alias`):
    (instance, other instance or None, the extra values) or None when `model` has no such row.

    For two reads every request makes one after the other when the second's key can be known first
    (accounts.session_store: the session and its person): one round trip and one statement instead of two,
    each row as row_get reads it."""
    db_alias = router.db_for_read(model)
    if router.db_for_read(other) != db_alias:
        raise ValueError("row_get_with reads both rows on one database")
    connection = connections[db_alias]
    extra_sql, extra_params = other_extra if other_extra else ("", [])
    sql, attnames, columns, where_fields, other_attnames, other_columns = _joined(
        model, other, db_alias, _parsed(conditions), other_alias, extra_sql)
    pk = other._meta.pk
    row = _fetch_one(connection, sql, [*extra_params, pk.get_db_prep_value(pk.get_prep_value(other_pk), connection),
                                       *_prepared(connection, where_fields, conditions)])
    if row is None:
        return None
    first, second = len(columns), len(columns) + len(other_columns)
    instance = model.from_db(db_alias, attnames, _converted(connection, columns, list(row[:first])))
    other_values = list(row[first:second])
    other_pk_index = other_attnames.index(pk.attname)
    other_instance = None if other_values[other_pk_index] is None else other.from_db(
        db_alias, other_attnames, _converted(connection, other_columns, other_values))
    return instance, other_instance, tuple(row[second:])
