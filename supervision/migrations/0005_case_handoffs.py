"""How often each case was handed on, for every agency that sent or received a handoff of it
(supervision.models.CaseHandoffs): the table, the triggers that keep it and its back-fill, a batch of cases
per committed transaction (the triggers first, so that whatever is written during the back-fill keeps its
rows too), as migration 0004 does for CaseActivity.

Also closes a race of 0004's triggers on PostgreSQL (READ COMMITTED): an action committed while another
transaction accepted a handoff of its case (or changed the case) was missed by both sides' statements
(each ran on a snapshot without the other's uncommitted row), leaving the agency's last action stale
until its next one. Both sides now meet on the case row: a refresh of a case locks it FOR UPDATE before
reading, a new or moved action takes FOR KEY SHARE on it before its update, so the later one waits for
the earlier one's commit and its next statement (a new snapshot) sees it. The services already lock the
case FOR UPDATE before a handoff's acceptance, withdrawal, completion or the case's own changes; an
action's foreign key check took FOR KEY SHARE at commit (deferred): the lock is taken earlier, not more."""

import importlib

from django.db import migrations, models, transaction
from django.db.utils import NotSupportedError

WITHDRAWN = "withdrawn"  # handoffs.models.HandoffStatus.WITHDRAWN
TABLE = "supervision_casehandoffs"
_activity = importlib.import_module("supervision.migrations.0004_case_activity")


def refresh_statements(cases: str) -> list[str]:
    """The rows of the cases `cases` selects (an SQL condition on a case id column written as {id}) made
    right: one per agency that sent or received a handoff of the case, with the case's handoffs not
    withdrawn; the rows of agencies no longer involved deleted."""
    involved = (f"SELECT h.case_id, h.from_agency_id AS agency_id FROM cases_handoff h WHERE {cases.format(id='h.case_id')} "
                f"UNION SELECT h.case_id, h.to_agency_id FROM cases_handoff h WHERE {cases.format(id='h.case_id')}")
    counted = (f"SELECT h.case_id, COUNT(*) AS n FROM cases_handoff h WHERE {cases.format(id='h.case_id')} "
               f"AND h.status <> '{WITHDRAWN}' GROUP BY h.case_id")
    return [
        f"DELETE FROM {TABLE} WHERE {cases.format(id=TABLE + '.case_id')} AND NOT EXISTS (SELECT 1 FROM cases_handoff h "
        f"WHERE h.case_id = {TABLE}.case_id AND (h.from_agency_id = {TABLE}.agency_id OR h.to_agency_id = {TABLE}.agency_id))",
        f"INSERT INTO {TABLE} (case_id, agency_id, handoffs) SELECT i.case_id, i.agency_id, COALESCE(n.n, 0) "
        f"FROM ({involved}) i LEFT JOIN ({counted}) n ON n.case_id = i.case_id "
        f"WHERE true ON CONFLICT (case_id, agency_id) DO UPDATE SET handoffs = excluded.handoffs",
    ]


# When a handoff's change can change its case's count or who was involved.
_HANDOFF_CHANGED = ("(OLD.status = '{w}') <> (NEW.status = '{w}') OR OLD.case_id <> NEW.case_id "
                    "OR OLD.from_agency_id <> NEW.from_agency_id OR OLD.to_agency_id <> NEW.to_agency_id"
                    ).format(w=WITHDRAWN)
_LOCK_CASE = "PERFORM 1 FROM cases_case WHERE id = p_case FOR UPDATE"


def _postgresql_install() -> list[str]:
    body = ";\n        ".join(refresh_statements("{id} = p_case"))
    activity = ";\n        ".join(_activity.refresh_statements("{id} = p_case", "postgresql"))
    return [
        f"""
        CREATE FUNCTION supervision_handoffs_refresh(p_case bigint) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
        {_LOCK_CASE};
        {body};
        END $$
        """,
        """
        CREATE FUNCTION supervision_handoffs_handoff() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                PERFORM supervision_handoffs_refresh(OLD.case_id);
            END IF;
            IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.case_id <> OLD.case_id) THEN
                PERFORM supervision_handoffs_refresh(NEW.case_id);
            END IF;
            RETURN NULL;
        END $$
        """,
        f"""
        CREATE FUNCTION supervision_handoffs_case() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM {TABLE} WHERE case_id = OLD.id;
            RETURN NULL;
        END $$
        """,
        "CREATE TRIGGER supervision_handoffs_insert AFTER INSERT ON cases_handoff FOR EACH ROW "
        "EXECUTE FUNCTION supervision_handoffs_handoff()",
        "CREATE TRIGGER supervision_handoffs_update AFTER UPDATE OF status, case_id, from_agency_id, to_agency_id "
        f"ON cases_handoff FOR EACH ROW WHEN ({_HANDOFF_CHANGED}) EXECUTE FUNCTION supervision_handoffs_handoff()",
        "CREATE TRIGGER supervision_handoffs_delete AFTER DELETE ON cases_handoff FOR EACH ROW "
        "EXECUTE FUNCTION supervision_handoffs_handoff()",
        "CREATE TRIGGER supervision_handoffs_case_delete AFTER DELETE ON cases_case FOR EACH ROW "
        "EXECUTE FUNCTION supervision_handoffs_case()",
        f"ALTER TABLE {TABLE} SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01, "
        "fillfactor = 90)",
        # CaseActivity (0004): the refresh locks its case first; a new or moved action locks it FOR KEY SHARE.
        f"""
        CREATE OR REPLACE FUNCTION supervision_activity_refresh(p_case bigint) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
        {_LOCK_CASE};
        {activity};
        END $$
        """,
        f"""
        CREATE OR REPLACE FUNCTION supervision_activity_action() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                PERFORM 1 FROM cases_case WHERE id = NEW.case_id FOR KEY SHARE;
                {_activity._action_later("postgresql")};
            ELSE
                {_activity._action_exact("OLD.case_id", "OLD.agency_id")};
                IF TG_OP = 'UPDATE' THEN
                    PERFORM 1 FROM cases_case WHERE id = NEW.case_id FOR KEY SHARE;
                    {_activity._action_exact("NEW.case_id", "NEW.agency_id")};
                END IF;
            END IF;
            RETURN NULL;
        END $$
        """,
    ]


def _postgresql_remove() -> list[str]:
    activity = ";\n        ".join(_activity.refresh_statements("{id} = p_case", "postgresql"))
    return [
        *(f"DROP TRIGGER IF EXISTS supervision_handoffs_{name} ON cases_handoff" for name in ("insert", "update", "delete")),
        "DROP TRIGGER IF EXISTS supervision_handoffs_case_delete ON cases_case",
        "DROP FUNCTION IF EXISTS supervision_handoffs_handoff()",
        "DROP FUNCTION IF EXISTS supervision_handoffs_case()",
        "DROP FUNCTION IF EXISTS supervision_handoffs_refresh(bigint)",
        # 0004's functions as they were.
        f"""
        CREATE OR REPLACE FUNCTION supervision_activity_refresh(p_case bigint) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
        {activity};
        END $$
        """,
        f"""
        CREATE OR REPLACE FUNCTION supervision_activity_action() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {_activity._action_later("postgresql")};
            ELSE
                {_activity._action_exact("OLD.case_id", "OLD.agency_id")};
                IF TG_OP = 'UPDATE' THEN
                    {_activity._action_exact("NEW.case_id", "NEW.agency_id")};
                END IF;
            END IF;
            RETURN NULL;
        END $$
        """,
    ]


def _sqlite_install() -> list[str]:
    def refresh(case: str) -> list[str]:
        return refresh_statements("{id} = " + case)

    def trigger(name: str, event: str, when: str, statements: list[str]) -> str:
        return _activity._sqlite_trigger(name, event, when, statements).replace(
            f"supervision_activity_{name}", f"supervision_handoffs_{name}", 1)

    return [
        trigger("insert", "INSERT ON cases_handoff", "", refresh("NEW.case_id")),
        trigger("update", "UPDATE OF status, case_id, from_agency_id, to_agency_id ON cases_handoff",
                _HANDOFF_CHANGED, [*refresh("OLD.case_id"), *refresh("NEW.case_id")]),
        trigger("delete", "DELETE ON cases_handoff", "", refresh("OLD.case_id")),
        trigger("case_delete", "DELETE ON cases_case", "", [f"DELETE FROM {TABLE} WHERE case_id = OLD.id"]),
    ]


_SQLITE_REMOVE = [f"DROP TRIGGER IF EXISTS supervision_handoffs_{name}"
                  for name in ("insert", "update", "delete", "case_delete")]


def _statements(vendor: str, *, install: bool) -> list[str]:
    if vendor == "postgresql":
        return _postgresql_install() if install else _postgresql_remove()
    if vendor == "sqlite":
        return _sqlite_install() if install else _SQLITE_REMOVE
    raise NotSupportedError(f"The case handoff triggers exist for PostgreSQL and SQLite, not {vendor}.")


def triggers_install(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor, install=True):
        schema_editor.execute(sql, params=None)


def triggers_remove(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor, install=False):
        schema_editor.execute(sql, params=None)


# Cases per committed batch of the back-fill.
FILL_BATCH_CASES = 20000


def rows_fill(apps, schema_editor):
    """The rows of every case with a handoff, FILL_BATCH_CASES case ids at a time, each batch committed."""
    connection = schema_editor.connection
    statements = refresh_statements("{id} BETWEEN %s AND %s")
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(case_id), MAX(case_id) FROM cases_handoff")
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
        ('cases', '0017_guardian_case_rows_delete'),
        ('handoffs', '0004_review_queue_override_orders'),
        ('supervision', '0004_case_activity'),
    ]

    operations = [
        migrations.CreateModel(
            name='CaseHandoffs',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('handoffs', models.IntegerField()),
                ('agency', models.ForeignKey(db_constraint=False, db_index=False,
                                             on_delete=models.deletion.DO_NOTHING, related_name='+',
                                             to='agencies.agency')),
                ('case', models.ForeignKey(db_constraint=False, db_index=False, on_delete=models.deletion.DO_NOTHING,
                                           related_name='handoff_tally', to='cases.case')),
            ],
            options={
                'verbose_name': 'case handoffs',
                'verbose_name_plural': 'case handoffs',
                'indexes': [models.Index(fields=['agency', '-handoffs', 'case'], name='case_handoffs_often_order')],
                'constraints': [models.UniqueConstraint(fields=('case', 'agency'), name='case_handoffs_one_per_agency')],
            },
        ),
        migrations.RunPython(triggers_install, triggers_remove),
        migrations.RunPython(rows_fill, rows_empty, atomic=False),
    ]
