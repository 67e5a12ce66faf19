"""The unfiltered register's figures per agency (supervision.models.AgencyHandoffFigures) and each answered
handoff's first action (HandoffFirstAction): the tables, the PostgreSQL triggers that keep them, and their
back-fill, in one transaction that holds writes to the handoffs and actions off while it counts (so that
no change is counted twice or missed). SQLite has no triggers: its summary is the live query.

Each figure is a sum over the agency's handoffs of one value of the handoff (1, 1 if of a status, 1 if its
deadline was met...; a duration and 1 if it has one): a change of a handoff takes away what its former row
gave and adds what its new row gives, for each agency on either side (in order of id: two changes of one
pair of agencies lock their rows in the same order). The longest duration cannot be taken away: when the
longest shrinks or goes, it is read again from the agency's handoffs (rare: durations only start).
A new, moved or deleted action of a case changes the first action of the handoffs of the case accepted by
its agency: each read again, and if it changed, the figures take the change. Locks as in 0005: the case
row FOR UPDATE when a handoff's first action is read, FOR KEY SHARE when an action is written, so that an
acceptance and a concurrent action see each other."""

import datetime

import django.db.models.deletion
from django.db import migrations, models

TABLE, FIRST = "supervision_agencyhandofffigures", "supervision_handofffirstaction"
STATUSES = ("sent", "accepted", "declined", "withdrawn", "completed")  # handoffs.models.HandoffStatus
DURATIONS = ("to_view", "to_answer", "to_first_action", "to_completion")
# Conditions on a handoff row {r}: the counted figures (as supervision.selectors.deadline_state_q once settled).
COUNTED = {
    **{f"status_{s}": f"{{r}}.status = '{s}'" for s in STATUSES},
    "deadline_met": "{r}.responded_at IS NOT NULL AND {r}.responded_at <= {r}.due_at",
    "deadline_missed": "{r}.responded_at > {r}.due_at OR ({r}.responded_at IS NULL AND {r}.withdrawn_at > {r}.due_at)",
    "deadline_void": "{r}.responded_at IS NULL AND {r}.withdrawn_at IS NOT NULL AND {r}.withdrawn_at <= {r}.due_at",
}
# The durations of a handoff row {r} whose first action is {fa}.
ENDS = {"to_view": "{r}.viewed_at", "to_answer": "{r}.responded_at", "to_first_action": "{fa}",
        "to_completion": "{r}.completed_at"}


def first_action(r: str) -> str:
    """The receiving agency's first action on the case at or after it accepted handoff row `r`, if answered and
    not declined (supervision.selectors._first_action_at)."""
    return (f"(SELECT a.occurred_at FROM cases_action a WHERE {r}.responded_at IS NOT NULL AND {r}.status <> 'declined' "
            f"AND a.case_id = {r}.case_id AND a.agency_id = {r}.to_agency_id AND a.occurred_at >= {r}.responded_at "
            "ORDER BY a.occurred_at, a.id LIMIT 1)")


def duration(name: str, r: str, fa: str) -> str:
    return f"({ENDS[name].format(r=r, fa=fa)} - {r}.sent_at)"


def _longest_function() -> str:
    longest = ", ".join(f"MAX{duration(name, 'h', first_action('h'))}" for name in DURATIONS)
    return f"""
        CREATE FUNCTION supervision_figures_longest(p_agency bigint) RETURNS void LANGUAGE sql AS $$
        UPDATE {TABLE} SET ({", ".join(f"{name}_max" for name in DURATIONS)}) = (
            SELECT {longest} FROM cases_handoff h WHERE h.from_agency_id = p_agency OR h.to_agency_id = p_agency)
        WHERE agency_id = p_agency
        $$
        """


_ROW = "r.status, r.due_at, r.responded_at, r.withdrawn_at, r.from_agency_id, r.to_agency_id, r.sent_at, r.viewed_at, r.completed_at"


def signed_figures() -> tuple[dict[str, str], list[str], str]:
    """Over signed rows `d` (d.sign -1 for a row gone, 1 for a row come): each figure's change (the longest
    durations: the longest come), the longest durations gone (`<duration>_gone`), and the SET list that
    adds the changes to a stored row `t` (`excluded`: the changes)."""
    figures = {"total": "SUM(d.sign)"}
    figures.update({name: f"SUM(CASE WHEN {c.format(r='d')} THEN d.sign ELSE 0 END)" for name, c in COUNTED.items()})
    removed = []
    for name in DURATIONS:
        value = duration(name, "d", "d.fa")
        figures[f"{name}_sum"] = (f"COALESCE(SUM{value} FILTER (WHERE d.sign > 0), interval '0') "
                                  f"- COALESCE(SUM{value} FILTER (WHERE d.sign < 0), interval '0')")
        figures[f"{name}_count"] = f"SUM(CASE WHEN {value} IS NOT NULL THEN d.sign ELSE 0 END)"
        figures[f"{name}_max"] = f"MAX{value} FILTER (WHERE d.sign > 0)"
        removed.append(f"MAX{value} FILTER (WHERE d.sign < 0) AS {name}_gone")
    update = ", ".join(f"{name} = GREATEST(t.{name}, excluded.{name})" if name.endswith("_max")
                       else f"{name} = t.{name} + excluded.{name}" for name in figures)
    return figures, removed, update


def _apply(before: str, after: str) -> str:
    """One statement that moves the figures from the rows `before` to the rows `after` (CTE bodies giving
    the handoff's columns and its first action as `fa`), keeps their first actions, and gives in `shrunk`
    the agencies whose longest duration went and must be read again."""
    figures, removed, update = signed_figures()
    shrunk = [f"(g.{name}_gone >= u.{name}_max AND (g.{name}_max IS NULL OR g.{name}_max < g.{name}_gone))"
              for name in DURATIONS]
    return f"""
        WITH o AS ({before}), n AS ({after}),
        gone AS (DELETE FROM {FIRST} WHERE handoff_id IN (SELECT id FROM o WHERE fa IS NOT NULL)
                 AND handoff_id NOT IN (SELECT id FROM n WHERE fa IS NOT NULL)),
        kept AS ({KEEP_FIRST}),
        {moved_figures(figures, removed, update)}
        SELECT array_agg(g.agency_id) INTO shrunk FROM g JOIN u ON u.agency_id = g.agency_id WHERE {" OR ".join(shrunk)}
        """


# The first actions of the rows `n` (CTE) written.
KEEP_FIRST = (f"INSERT INTO {FIRST} (handoff_id, first_action_at) SELECT id, fa FROM n WHERE fa IS NOT NULL\n"
              "                 ON CONFLICT (handoff_id) DO UPDATE SET first_action_at = excluded.first_action_at")


def moved_figures(figures: dict[str, str], removed: list[str], update: str) -> str:
    """The CTEs from the rows gone `o` to the rows come `n`: each agency's changes `g` (signed_figures) and
    its stored row `u` after them."""
    return f"""c AS (SELECT -1 AS sign, {_ROW}, r.fa FROM o r UNION ALL SELECT 1, {_ROW}, r.fa FROM n r),
        d AS (SELECT s.agency_id, c.* FROM c CROSS JOIN LATERAL (VALUES (c.from_agency_id), (c.to_agency_id)) s(agency_id)),
        g AS (SELECT d.agency_id, {", ".join(f"{e} AS {name}" for name, e in figures.items())}, {", ".join(removed)}
              FROM d GROUP BY d.agency_id),
        u AS (INSERT INTO {TABLE} AS t (agency_id, {", ".join(figures)})
              SELECT agency_id, {", ".join(figures)} FROM g ORDER BY agency_id
              ON CONFLICT (agency_id) DO UPDATE SET {update}
              RETURNING t.agency_id, {", ".join(f"t.{name}_max" for name in DURATIONS)})"""


def _function(name: str, body: str) -> str:
    return f"""
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            shrunk bigint[];
            agency bigint;
        BEGIN
        {body};
            FOREACH agency IN ARRAY COALESCE(shrunk, ARRAY[]::bigint[]) LOOP
                PERFORM supervision_figures_longest(agency);
            END LOOP;
            RETURN NULL;
        END $$
        """


# The columns of a handoff a figure depends on.
_HANDOFF_COLUMNS = ("status", "case_id", "from_agency_id", "to_agency_id", "sent_at", "due_at", "viewed_at",
                    "responded_at", "withdrawn_at", "completed_at")
_CHANGED = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in _HANDOFF_COLUMNS)
_NONE = "SELECT h.*, NULL::timestamptz AS fa FROM cases_handoff h WHERE false"
_OLD = f"SELECT h.*, f.first_action_at AS fa FROM {{rows}} h LEFT JOIN {FIRST} f ON f.handoff_id = h.id"
_NEW = f"SELECT h.*, {first_action('h')} AS fa FROM {{rows}} h"
# The cases whose handoffs' first action is read: locked as in 0005 (see the module's docstring).
_LOCK_ANSWERED = ("PERFORM 1 FROM cases_case WHERE id IN (SELECT case_id FROM {rows} WHERE responded_at IS NOT NULL "
                  "AND status <> 'declined') ORDER BY id FOR UPDATE")
_UPDATED = f"(SELECT n.* FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE {_CHANGED})"
# The handoffs whose first action an action's change can move: of its case, accepted by its agency.
_TOUCHED = ("(SELECT h.* FROM cases_handoff h WHERE h.responded_at IS NOT NULL AND h.status <> 'declined' "
            "AND (h.case_id, h.to_agency_id) IN (SELECT case_id, agency_id FROM {rows}))")
# Those of them whose first action moved, with it as it was (`stored`) or as it is now.
_MOVED = (f"SELECT x.*, {{fa}} AS fa FROM {_TOUCHED} x LEFT JOIN {FIRST} f ON f.handoff_id = x.id "
          f"WHERE f.first_action_at IS DISTINCT FROM {first_action('x')}")


def _action_body(rows: str) -> str:
    stored, now = _MOVED.format(rows=rows, fa="f.first_action_at"), _MOVED.format(rows=rows, fa=first_action("x"))
    return (f"PERFORM 1 FROM cases_case WHERE id IN (SELECT case_id FROM {rows}) ORDER BY id FOR KEY SHARE;\n"
            + _apply(stored, now))


def _postgresql_install() -> list[str]:
    both = "(SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows) b"
    return [
        _longest_function(),
        _function("supervision_figures_handoff_insert", _LOCK_ANSWERED.format(rows="new_rows") + ";\n"
                  + _apply(_NONE, _NEW.format(rows="new_rows"))),
        _function("supervision_figures_handoff_update",
                  f"IF NOT EXISTS {_UPDATED} THEN RETURN NULL; END IF;\n" + _LOCK_ANSWERED.format(rows="new_rows")
                  + ";\n" + _apply(_OLD.format(rows=f"(SELECT o.* FROM old_rows o WHERE o.id IN (SELECT id FROM {_UPDATED} x))"),
                                    _NEW.format(rows=_UPDATED))),
        _function("supervision_figures_handoff_delete", _apply(_OLD.format(rows="old_rows"), _NONE)),
        _function("supervision_figures_action_insert", _action_body("new_rows")),
        _function("supervision_figures_action_update", _action_body(both)),
        _function("supervision_figures_action_delete", _action_body("old_rows")),
        *(f"CREATE TRIGGER supervision_figures_{table}_{event} AFTER {event.upper()} ON cases_{table} "
          f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION supervision_figures_{table}_{event}()"
          for table in ("handoff", "action") for event, tables in (
              ("insert", "NEW TABLE AS new_rows"), ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
              ("delete", "OLD TABLE AS old_rows"))),
        # Every handoff's change rewrites two of its rows: vacuum the small table early.
        f"ALTER TABLE {TABLE} SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01, "
        "fillfactor = 50)",
    ]


_POSTGRESQL_REMOVE = [
    *(f"DROP TRIGGER IF EXISTS supervision_figures_{table}_{event} ON cases_{table}"
      for table in ("handoff", "action") for event in ("insert", "update", "delete")),
    *(f"DROP FUNCTION IF EXISTS supervision_figures_{table}_{event}()"
      for table in ("handoff", "action") for event in ("insert", "update", "delete")),
    "DROP FUNCTION IF EXISTS supervision_figures_longest(bigint)",
]


def fill_statements() -> list[str]:
    """The back-fill: every answered handoff's first action, then each agency's figures counted."""
    sides = (f"SELECT {{side}} AS agency_id, h.*, f.first_action_at AS fa FROM cases_handoff h "
             f"LEFT JOIN {FIRST} f ON f.handoff_id = h.id")
    figures = {"total": "COUNT(*)"}
    figures.update({name: f"COUNT(*) FILTER (WHERE {c.format(r='s')})" for name, c in COUNTED.items()})
    for name in DURATIONS:
        value = duration(name, "s", "s.fa")
        figures.update({f"{name}_sum": f"COALESCE(SUM{value}, interval '0')", f"{name}_count": f"COUNT{value}",
                        f"{name}_max": f"MAX{value}"})
    return [
        f"LOCK TABLE cases_handoff, cases_action IN SHARE MODE",
        f"INSERT INTO {FIRST} (handoff_id, first_action_at) SELECT x.id, x.fa FROM (SELECT h.id, {first_action('h')} "
        "AS fa FROM cases_handoff h WHERE h.responded_at IS NOT NULL AND h.status <> 'declined') x "
        "WHERE x.fa IS NOT NULL",
        f"INSERT INTO {TABLE} (agency_id, {', '.join(figures)}) SELECT s.agency_id, {', '.join(figures.values())} "
        f"FROM ({sides.format(side='h.from_agency_id')} UNION ALL {sides.format(side='h.to_agency_id')}) s "
        "GROUP BY s.agency_id",
        f"ANALYZE {TABLE}",
        f"ANALYZE {FIRST}",
    ]


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: the summary is the live query (supervision.selectors.handoff_register_summary).
    for sql in [*_postgresql_install(), *fill_statements()]:
        schema_editor.execute(sql, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in _POSTGRESQL_REMOVE:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('agencies', '0004_membership_triggers'),
        ('handoffs', '0007_waiting_indexes'),
        ('supervision', '0006_review_queue_review_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='AgencyHandoffFigures',
            fields=[
                ('agency', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='+', serialize=False, to='agencies.agency')),
                ('total', models.BigIntegerField(db_default=0)),
                ('deadline_met', models.BigIntegerField(db_default=0)),
                ('deadline_missed', models.BigIntegerField(db_default=0)),
                ('deadline_void', models.BigIntegerField(db_default=0)),
                ('status_sent', models.BigIntegerField(db_default=0)),
                ('status_accepted', models.BigIntegerField(db_default=0)),
                ('status_declined', models.BigIntegerField(db_default=0)),
                ('status_withdrawn', models.BigIntegerField(db_default=0)),
                ('status_completed', models.BigIntegerField(db_default=0)),
                ('to_view_sum', models.DurationField(db_default=datetime.timedelta(0))),
                ('to_view_count', models.BigIntegerField(db_default=0)),
                ('to_view_max', models.DurationField(blank=True, null=True)),
                ('to_answer_sum', models.DurationField(db_default=datetime.timedelta(0))),
                ('to_answer_count', models.BigIntegerField(db_default=0)),
                ('to_answer_max', models.DurationField(blank=True, null=True)),
                ('to_first_action_sum', models.DurationField(db_default=datetime.timedelta(0))),
                ('to_first_action_count', models.BigIntegerField(db_default=0)),
                ('to_first_action_max', models.DurationField(blank=True, null=True)),
                ('to_completion_sum', models.DurationField(db_default=datetime.timedelta(0))),
                ('to_completion_count', models.BigIntegerField(db_default=0)),
                ('to_completion_max', models.DurationField(blank=True, null=True)),
            ],
            options={
                'verbose_name': 'agency handoff figures',
                'verbose_name_plural': 'agency handoff figures',
            },
        ),
        migrations.CreateModel(
            name='HandoffFirstAction',
            fields=[
                ('handoff', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='+', serialize=False, to='handoffs.handoff')),
                ('first_action_at', models.DateTimeField()),
            ],
            options={
                'verbose_name': 'handoff first action',
                'verbose_name_plural': 'handoff first actions',
            },
        ),
        migrations.RunPython(install, remove),
    ]
