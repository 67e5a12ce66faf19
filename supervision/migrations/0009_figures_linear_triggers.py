"""The handoff figures' trigger functions (migration 0007) rewritten so that their cost grows with the rows a
statement changed, whatever plan PostgreSQL picks. Transition tables have no statistics and no index, and
plpgsql keeps a statement's plan for the session: a plan made for a one-row change (a nested loop over
the transition tables, each estimated at one row) was used again for an UPDATE of thousands of handoffs,
which 0007 found by joining OLD TABLE to NEW TABLE on id (twice, one join inside the other): 300 rows
took 19 s, 4,000 rows more than ten minutes.

Now no statement joins two sets made from the transition tables:
- the changed handoffs of an UPDATE are found by grouping the old rows (-1) and the new rows (1) on id and
  every column the figures read: an unchanged handoff's two rows cancel (its group sums to 0), a changed
  one leaves its old row at -1 and its new row at 1;
- the first actions gone are grouped the same way (ids whose rows are all old ones), not NOT IN;
- the agencies whose longest duration must be read again come from each agency's changes and its stored
  row grouped together, not joined.
The only joins left go from such a set to a table by its index (the stored first actions, the cases to
lock, the actions of a case), which costs a lookup per row whichever side the planner starts from.
Grouping hashes or sorts: linear or n log n, never quadratic. benchmarks/trigger_bulk.py measures it.

Reversed, 0007's functions come back as they were."""

import importlib

from django.db import migrations

_figures = importlib.import_module("supervision.migrations.0007_handoff_figures")
FIRST, DURATIONS = _figures.FIRST, _figures.DURATIONS

# The columns that identify a handoff's row for the figures: its id and every column a figure reads.
_KEYS = ", ".join(("id", *_figures._HANDOFF_COLUMNS))
# The changed rows of an UPDATE (old ones with sign -1, new ones with 1), unchanged handoffs cancelled.
_CHANGED = (f"(SELECT {_KEYS}, SUM(sign)::int AS sign FROM (SELECT -1 AS sign, {_KEYS} FROM old_rows "
            f"UNION ALL SELECT 1, {_KEYS} FROM new_rows) b GROUP BY {_KEYS} HAVING SUM(sign) <> 0)")


def _apply(before: str, after: str, *, changed: str = "") -> str:
    """As 0007's _apply, without joining `before` to `after`, or the agencies' changes to their stored rows.
    `changed`: a CTE body both `before` and `after` read as `ch` (the changed rows, computed once)."""
    figures, removed, update = _figures.signed_figures()
    ends = [f"{name}_{end}" for name in DURATIONS for end in ("gone", "added", "now")]
    from_g = ", ".join(f"{name}_gone, {name}_max AS {name}_added, NULL::interval AS {name}_now" for name in DURATIONS)
    from_u = ", ".join(f"NULL::interval, NULL::interval, {name}_max" for name in DURATIONS)
    shrunk = " OR ".join(f"(w.{name}_gone >= w.{name}_now AND (w.{name}_added IS NULL OR w.{name}_added < w.{name}_gone))"
                         for name in DURATIONS)
    return f"""
        WITH {f"ch AS ({changed}), " if changed else ""}o AS ({before}), n AS ({after}),
        firsts AS (SELECT id, -1 AS sign FROM o WHERE fa IS NOT NULL UNION ALL SELECT id, 1 FROM n WHERE fa IS NOT NULL),
        gone AS (DELETE FROM {FIRST} x USING (SELECT id FROM firsts GROUP BY id HAVING MAX(sign) < 0) y
                 WHERE x.handoff_id = y.id),
        kept AS ({_figures.KEEP_FIRST}),
        {_figures.moved_figures(figures, removed, update)},
        w AS (SELECT agency_id, {", ".join(f"MAX({end}) AS {end}" for end in ends)} FROM (
                  SELECT agency_id, {from_g} FROM g UNION ALL SELECT agency_id, {from_u} FROM u) s
              GROUP BY agency_id)
        SELECT array_agg(w.agency_id) INTO shrunk FROM w WHERE {shrunk}
        """


def _action_body(rows: str) -> str:
    stored = _figures._MOVED.format(rows=rows, fa="f.first_action_at")
    now = _figures._MOVED.format(rows=rows, fa=_figures.first_action("x"))
    return (f"PERFORM 1 FROM cases_case WHERE id IN (SELECT case_id FROM {rows}) ORDER BY id FOR KEY SHARE;\n"
            + _apply(stored, now))


def _functions() -> list[str]:
    both = "(SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows) b"
    lock_changed = ("PERFORM 1 FROM cases_case WHERE id IN (SELECT case_id FROM " + _CHANGED + " x WHERE sign > 0 "
                    "AND responded_at IS NOT NULL AND status <> 'declined') ORDER BY id FOR UPDATE")
    functions = [
        ("supervision_figures_handoff_insert", _figures._LOCK_ANSWERED.format(rows="new_rows") + ";\n"
         + _apply(_figures._NONE, _figures._NEW.format(rows="new_rows"))),
        ("supervision_figures_handoff_update", f"IF NOT EXISTS {_CHANGED} THEN RETURN NULL; END IF;\n"
         + lock_changed + ";\n" + _apply(_figures._OLD.format(rows="(SELECT * FROM ch WHERE sign < 0)"),
                                        _figures._NEW.format(rows="(SELECT * FROM ch WHERE sign > 0)"),
                                        changed=_CHANGED[1:-1])),
        ("supervision_figures_handoff_delete", _apply(_figures._OLD.format(rows="old_rows"), _figures._NONE)),
        ("supervision_figures_action_insert", _action_body("new_rows")),
        ("supervision_figures_action_update", _action_body(both)),
        ("supervision_figures_action_delete", _action_body("old_rows")),
    ]
    return [_replace(_figures._function(name, body)) for name, body in functions]


def _replace(sql: str) -> str:
    return sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def _previous() -> list[str]:
    """0007's trigger functions (not its triggers, table settings or the longest duration's function)."""
    return [_replace(sql) for sql in _figures._postgresql_install()
            if "RETURNS trigger" in sql and sql.lstrip().startswith("CREATE FUNCTION")]


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in _functions():
            schema_editor.execute(sql, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in _previous():
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('supervision', '0008_review_queue_backlog'),
    ]

    operations = [
        migrations.RunPython(install, remove),
    ]
