"""An action, its timeline line and the case's move up the lists, written in one statement (issue 15).

Logging an action writes three rows: the action, the timeline line that names it (cases.events) and the
case's updated_at (the lists' order). Through the ORM that is three statements, each compiled anew (about
a millisecond and a half of CPU on the mixed load's most frequent write) and three round trips. On
PostgreSQL `action_with_line_write` sends them as one statement of data-modifying WITH queries, the line
taking the action's new id from the action's RETURNING. Its SQL is written once per process from the
models' fields, as the ORM's INSERT names them; each value is prepared by its field as the ORM's INSERT
prepares it (`pre_save`: the action's text sealed with the case's key; `get_db_prep_save`: JSON,
datetimes), so the rows are the same bytes. The tables' triggers fire as for three statements (row and
statement triggers at the end of the statement). Elsewhere (SQLite), or while anything listens to the two
models' pre_save or post_save signals (which the ORM would send and this does not), it writes nothing and
says so: the caller writes through the ORM as before.
"""

import functools

from django.db import connections, router
from django.db.models import Model
from django.db.models.signals import post_save, pre_save

from config.inserts import insert_params, inserted_fields

from .models import Action, Case, CaseEvent


@functools.cache
def _statement(alias: str) -> str:
    quote = connections[alias].ops.quote_name
    action_fields, line_fields = inserted_fields(Action), inserted_fields(CaseEvent)
    action_pk, line_pk = quote(Action._meta.pk.column), quote(CaseEvent._meta.pk.column)
    # The line's action is the action's new id; every other value is a parameter.
    line_values = ", ".join(f"a.{action_pk}" if field.name == "action" else "%s" for field in line_fields)
    # Only quoted names are formatted in.
    return (
        f"WITH a AS (INSERT INTO {quote(Action._meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(field.column) for field in action_fields)}) "
        f"VALUES ({', '.join('%s' for _field in action_fields)}) RETURNING {action_pk}), "
        f"e AS (INSERT INTO {quote(CaseEvent._meta.db_table)} "
        f"({', '.join(quote(field.column) for field in line_fields)}) SELECT {line_values} FROM a "
        f"RETURNING {line_pk}), "
        f"u AS (UPDATE {quote(Case._meta.db_table)} SET {quote(Case._meta.get_field('updated_at').column)} = %s "
        f"WHERE {quote(Case._meta.pk.column)} = %s) "
        f"SELECT a.{action_pk}, e.{line_pk} FROM a, e"
    )


def _listened(model: type[Model]) -> bool:
    return pre_save.has_listeners(model) or post_save.has_listeners(model)


def action_with_line_write(*, action: Action, line: CaseEvent, case: Case, now) -> bool:
    """Insert the new `action` and its timeline `line` (whose action is `action`) and set the case's
    updated_at to `now`, in one statement; the two instances are then saved ones, with their ids.
    False, having written nothing, where it cannot (see the module): the caller writes them itself."""
    alias = router.db_for_write(Action)
    connection = connections[alias]
    if (connection.vendor != "postgresql" or router.db_for_write(CaseEvent) != alias
            or router.db_for_write(Case) != alias or _listened(Action) or _listened(CaseEvent)):
        return False
    params = insert_params(action, inserted_fields(Action), connection)
    params += insert_params(line, [field for field in inserted_fields(CaseEvent) if field.name != "action"],
                            connection)
    params += [Case._meta.get_field("updated_at").get_db_prep_save(now, connection),
               Case._meta.pk.get_db_prep_save(case.pk, connection)]
    with connection.cursor() as cursor:
        cursor.execute(_statement(alias), params)
        action_id, line_id = cursor.fetchone()
    for instance, pk in ((action, action_id), (line, line_id)):
        instance.pk = pk
        instance._state.adding, instance._state.db = False, alias
    line.action = action
    case.updated_at = now
    return True
