"""The supervisor's idle clock per case and agency (supervision.models.CaseActivity): the table, the
triggers that keep it, and its back-fill from the cases, actions and handoffs already there, a batch of
cases per committed transaction so that it works at a million cases (the triggers are installed and
committed first: whatever is written during the back-fill keeps its rows too)."""

import django.db.models.deletion
import django.db.models.functions.comparison
from django.db import migrations, models, transaction
from django.db.utils import NotSupportedError

CLOSED, ACCEPTED = "closed", "accepted"  # cases.models.CaseStatus.CLOSED, handoffs.models.HandoffStatus.ACCEPTED
TABLE = "supervision_caseactivity"


def _working(cases: str) -> str:
    """(case_id, agency_id) of the agencies working on the open cases among `cases` (an SQL condition on
    a case id column written as {id}): the lead, and every agency holding an accepted handoff."""
    return (
        f"SELECT c.id AS case_id, c.lead_agency_id AS agency_id FROM cases_case c "
        f"WHERE {cases.format(id='c.id')} AND c.status <> '{CLOSED}' "
        f"UNION SELECT h.case_id, h.to_agency_id FROM cases_handoff h JOIN cases_case c ON c.id = h.case_id "
        f"WHERE {cases.format(id='h.case_id')} AND h.status = '{ACCEPTED}' AND c.status <> '{CLOSED}'"
    )


def _last_action(case: str, agency: str) -> str:
    return f"(SELECT MAX(a.occurred_at) FROM cases_action a WHERE a.case_id = {case} AND a.agency_id = {agency})"


def _joined(case: str, agency: str) -> str:
    return (f"(SELECT MAX(j.responded_at) FROM cases_handoff j WHERE j.case_id = {case} AND j.to_agency_id = {agency} "
            f"AND j.status = '{ACCEPTED}')")


def refresh_statements(cases: str, vendor: str) -> list[str]:
    """The rows of the cases `cases` selects made right: the rows of agencies no longer working on them
    deleted, the others written (the last action kept if a concurrent action made it later)."""
    greatest = "GREATEST" if vendor == "postgresql" else "MAX"
    later_action = (f"{greatest}(COALESCE({TABLE}.last_action_at, excluded.last_action_at), "
                    f"COALESCE(excluded.last_action_at, {TABLE}.last_action_at))")
    still_working = (
        f"SELECT 1 FROM cases_case c WHERE c.id = {TABLE}.case_id AND c.status <> '{CLOSED}' "
        f"AND (c.lead_agency_id = {TABLE}.agency_id OR EXISTS (SELECT 1 FROM cases_handoff h "
        f"WHERE h.case_id = {TABLE}.case_id AND h.to_agency_id = {TABLE}.agency_id AND h.status = '{ACCEPTED}'))"
    )
    return [
        f"DELETE FROM {TABLE} WHERE {cases.format(id=TABLE + '.case_id')} AND NOT EXISTS ({still_working})",
        f"INSERT INTO {TABLE} (case_id, agency_id, case_created_at, last_action_at, joined_at) "
        f"SELECT w.case_id, w.agency_id, c.created_at, {_last_action('w.case_id', 'w.agency_id')}, "
        f"{_joined('w.case_id', 'w.agency_id')} FROM ({_working(cases)}) w JOIN cases_case c ON c.id = w.case_id "
        f"WHERE true ON CONFLICT (case_id, agency_id) DO UPDATE SET case_created_at = excluded.case_created_at, "
        f"last_action_at = {later_action}, joined_at = excluded.joined_at",
    ]


def _action_exact(case: str, agency: str) -> str:
    """The last action of one case and agency read again (an action deleted or moved)."""
    return (f"UPDATE {TABLE} SET last_action_at = {_last_action(TABLE + '.case_id', TABLE + '.agency_id')} "
            f"WHERE case_id = {case} AND agency_id = {agency}")


def _action_later(vendor: str) -> str:
    """A new action: the row of its case and agency, if that agency works on the case, takes it if later."""
    later = ("GREATEST(last_action_at, NEW.occurred_at)" if vendor == "postgresql"
             else "MAX(COALESCE(last_action_at, NEW.occurred_at), NEW.occurred_at)")
    return f"UPDATE {TABLE} SET last_action_at = {later} WHERE case_id = NEW.case_id AND agency_id = NEW.agency_id"


# When a handoff's change can change who works on its case or since when.
_HANDOFF_CHANGED = (
    f"(OLD.status = '{ACCEPTED}') <> (NEW.status = '{ACCEPTED}') OR (NEW.status = '{ACCEPTED}' AND ("
    "OLD.responded_at IS DISTINCT FROM NEW.responded_at OR OLD.to_agency_id <> NEW.to_agency_id "
    "OR OLD.case_id <> NEW.case_id))"
)
_CASE_CHANGED = ("OLD.status IS DISTINCT FROM NEW.status OR OLD.lead_agency_id <> NEW.lead_agency_id "
                 "OR OLD.created_at IS DISTINCT FROM NEW.created_at")


def _postgresql_install() -> list[str]:
    one = "{id} = p_case"
    body = ";\n        ".join(refresh_statements(one, "postgresql"))
    return [
        f"""
        CREATE FUNCTION supervision_activity_refresh(p_case bigint) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
        {body};
        END $$
        """,
        f"""
        CREATE FUNCTION supervision_activity_case() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                DELETE FROM {TABLE} WHERE case_id = OLD.id;
            ELSE
                PERFORM supervision_activity_refresh(NEW.id);
            END IF;
            RETURN NULL;
        END $$
        """,
        f"""
        CREATE FUNCTION supervision_activity_action() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {_action_later("postgresql")};
            ELSE
                {_action_exact("OLD.case_id", "OLD.agency_id")};
                IF TG_OP = 'UPDATE' THEN
                    {_action_exact("NEW.case_id", "NEW.agency_id")};
                END IF;
            END IF;
            RETURN NULL;
        END $$
        """,
        """
        CREATE FUNCTION supervision_activity_handoff() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                PERFORM supervision_activity_refresh(OLD.case_id);
            END IF;
            IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.case_id <> OLD.case_id) THEN
                PERFORM supervision_activity_refresh(NEW.case_id);
            END IF;
            RETURN NULL;
        END $$
        """,
        "CREATE TRIGGER supervision_activity_case_insert AFTER INSERT ON cases_case FOR EACH ROW "
        "EXECUTE FUNCTION supervision_activity_case()",
        "CREATE TRIGGER supervision_activity_case_update AFTER UPDATE OF status, lead_agency_id, created_at "
        f"ON cases_case FOR EACH ROW WHEN ({_CASE_CHANGED}) EXECUTE FUNCTION supervision_activity_case()",
        "CREATE TRIGGER supervision_activity_case_delete AFTER DELETE ON cases_case FOR EACH ROW "
        "EXECUTE FUNCTION supervision_activity_case()",
        "CREATE TRIGGER supervision_activity_action_insert AFTER INSERT ON cases_action FOR EACH ROW "
        "EXECUTE FUNCTION supervision_activity_action()",
        "CREATE TRIGGER supervision_activity_action_update AFTER UPDATE OF case_id, agency_id, occurred_at "
        "ON cases_action FOR EACH ROW WHEN (OLD.case_id <> NEW.case_id OR OLD.agency_id <> NEW.agency_id "
        "OR OLD.occurred_at IS DISTINCT FROM NEW.occurred_at) EXECUTE FUNCTION supervision_activity_action()",
        "CREATE TRIGGER supervision_activity_action_delete AFTER DELETE ON cases_action FOR EACH ROW "
        "EXECUTE FUNCTION supervision_activity_action()",
        "CREATE TRIGGER supervision_activity_handoff_insert AFTER INSERT ON cases_handoff FOR EACH ROW "
        f"WHEN (NEW.status = '{ACCEPTED}') EXECUTE FUNCTION supervision_activity_handoff()",
        "CREATE TRIGGER supervision_activity_handoff_update AFTER UPDATE OF status, responded_at, to_agency_id, "
        f"case_id ON cases_handoff FOR EACH ROW WHEN ({_HANDOFF_CHANGED}) "
        "EXECUTE FUNCTION supervision_activity_handoff()",
        "CREATE TRIGGER supervision_activity_handoff_delete AFTER DELETE ON cases_handoff FOR EACH ROW "
        f"WHEN (OLD.status = '{ACCEPTED}') EXECUTE FUNCTION supervision_activity_handoff()",
        # Each acceptance, closing and change of lead rewrites rows: vacuum and analyse the table early.
        f"ALTER TABLE {TABLE} SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01, "
        "fillfactor = 90)",
    ]


_POSTGRESQL_REMOVE = [
    *(f"DROP TRIGGER IF EXISTS supervision_activity_{name} ON {table}" for table, names in (
        ("cases_case", ("case_insert", "case_update", "case_delete")),
        ("cases_action", ("action_insert", "action_update", "action_delete")),
        ("cases_handoff", ("handoff_insert", "handoff_update", "handoff_delete"))) for name in names),
    "DROP FUNCTION IF EXISTS supervision_activity_case()",
    "DROP FUNCTION IF EXISTS supervision_activity_action()",
    "DROP FUNCTION IF EXISTS supervision_activity_handoff()",
    "DROP FUNCTION IF EXISTS supervision_activity_refresh(bigint)",
]


def _sqlite_trigger(name: str, event: str, when: str, statements: list[str]) -> str:
    when = f" WHEN {when}" if when else ""
    body = " ".join(f"{s};" for s in statements)
    return f"CREATE TRIGGER supervision_activity_{name} AFTER {event}{when} BEGIN {body} END"


def _sqlite_install() -> list[str]:
    def refresh(case: str) -> list[str]:
        return refresh_statements("{id} = " + case, "sqlite")

    # SQLite has no IS DISTINCT FROM in older versions' triggers: IS NOT means the same.
    case_changed = _CASE_CHANGED.replace("IS DISTINCT FROM", "IS NOT")
    handoff_changed = _HANDOFF_CHANGED.replace("IS DISTINCT FROM", "IS NOT")
    return [
        _sqlite_trigger("case_insert", "INSERT ON cases_case", "", refresh("NEW.id")),
        _sqlite_trigger("case_update", "UPDATE OF status, lead_agency_id, created_at ON cases_case", case_changed,
                        refresh("NEW.id")),
        _sqlite_trigger("case_delete", "DELETE ON cases_case", "", [f"DELETE FROM {TABLE} WHERE case_id = OLD.id"]),
        _sqlite_trigger("action_insert", "INSERT ON cases_action", "", [_action_later("sqlite")]),
        _sqlite_trigger("action_update", "UPDATE OF case_id, agency_id, occurred_at ON cases_action",
                        "OLD.case_id <> NEW.case_id OR OLD.agency_id <> NEW.agency_id "
                        "OR OLD.occurred_at IS NOT NEW.occurred_at",
                        [_action_exact("OLD.case_id", "OLD.agency_id"), _action_exact("NEW.case_id", "NEW.agency_id")]),
        _sqlite_trigger("action_delete", "DELETE ON cases_action", "", [_action_exact("OLD.case_id", "OLD.agency_id")]),
        _sqlite_trigger("handoff_insert", "INSERT ON cases_handoff", f"NEW.status = '{ACCEPTED}'",
                        refresh("NEW.case_id")),
        _sqlite_trigger("handoff_update", "UPDATE OF status, responded_at, to_agency_id, case_id ON cases_handoff",
                        handoff_changed, [*refresh("OLD.case_id"), *refresh("NEW.case_id")]),
        _sqlite_trigger("handoff_delete", "DELETE ON cases_handoff", f"OLD.status = '{ACCEPTED}'",
                        refresh("OLD.case_id")),
    ]


_SQLITE_REMOVE = [f"DROP TRIGGER IF EXISTS supervision_activity_{name}" for name in (
    "case_insert", "case_update", "case_delete", "action_insert", "action_update", "action_delete",
    "handoff_insert", "handoff_update", "handoff_delete")]


def _statements(vendor: str, *, install: bool) -> list[str]:
    if vendor == "postgresql":
        return _postgresql_install() if install else _POSTGRESQL_REMOVE
    if vendor == "sqlite":
        return _sqlite_install() if install else _SQLITE_REMOVE
    raise NotSupportedError(f"The case activity triggers exist for PostgreSQL and SQLite, not {vendor}.")


def triggers_install(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor, install=True):
        schema_editor.execute(sql, params=None)


def triggers_remove(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor, install=False):
        schema_editor.execute(sql, params=None)


# Cases per committed batch of the back-fill.
FILL_BATCH_CASES = 20000


def rows_fill(apps, schema_editor):
    """The rows of every case, FILL_BATCH_CASES case ids at a time, each batch committed: two
    statements per batch (the refresh of a range of cases), memory independent of the installation."""
    connection = schema_editor.connection
    statements = refresh_statements("{id} BETWEEN %s AND %s", connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM cases_case")
        low, high = cursor.fetchone()
    if low is None:
        return
    for start in range(low, high + 1, FILL_BATCH_CASES):
        end = start + FILL_BATCH_CASES - 1
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql, [start, end] * sql.count("BETWEEN %s AND %s"))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {TABLE}")


def rows_empty(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    # The back-fill commits a batch at a time.
    atomic = False

    dependencies = [
        ('agencies', '0004_membership_triggers'),
        ('cases', '0017_guardian_case_rows_delete'),
        ('handoffs', '0003_handoff_list_orders'),
        ('supervision', '0003_reviews_point_at_moved_models'),
    ]

    operations = [
        migrations.CreateModel(
            name='CaseActivity',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('case_created_at', models.DateTimeField()),
                ('last_action_at', models.DateTimeField(blank=True, null=True)),
                ('joined_at', models.DateTimeField(blank=True, null=True)),
                ('activity_at', models.GeneratedField(db_persist=True, expression=django.db.models.functions.comparison.Greatest(django.db.models.functions.comparison.Coalesce(models.F('last_action_at'), models.F('case_created_at')), django.db.models.functions.comparison.Coalesce(models.F('joined_at'), models.F('case_created_at'))), output_field=models.DateTimeField())),
                ('agency', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='agencies.agency')),
                ('case', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='activity', to='cases.case')),
            ],
            options={
                'verbose_name': 'case activity',
                'verbose_name_plural': 'case activity',
                'indexes': [models.Index(fields=['agency', 'activity_at', 'case'], name='case_activity_idle_order')],
                'constraints': [models.UniqueConstraint(fields=('case', 'agency'), name='case_activity_one_per_agency')],
            },
        ),
        migrations.RunPython(triggers_install, triggers_remove),
        migrations.RunPython(rows_fill, rows_empty, atomic=False),
    ]
