"""One access row per holder and case (cases.models.CaseAccessRow), filled from the object-permission
rows; triggers keep each row's copy of the case's sort key (updated_at)."""

import datetime

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.utils import NotSupportedError

from permissions.access import access_pieces

_POSTGRESQL_INSTALL = [
    """
    CREATE FUNCTION cases_access_sort_copy() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE cases_caseaccessrow SET case_updated_at = NEW.updated_at WHERE case_id = NEW.id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER cases_case_access_sort AFTER UPDATE OF updated_at ON cases_case FOR EACH ROW
    WHEN (OLD.updated_at IS DISTINCT FROM NEW.updated_at) EXECUTE FUNCTION cases_access_sort_copy()
    """,
    """
    CREATE FUNCTION cases_access_sort_fill() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.case_updated_at := (SELECT updated_at FROM cases_case WHERE id = NEW.case_id);
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER cases_access_sort_insert BEFORE INSERT OR UPDATE OF case_id ON cases_caseaccessrow
    FOR EACH ROW EXECUTE FUNCTION cases_access_sort_fill()
    """,
    # Every change of a case rewrites its rows' sort key: vacuum and analyse the table early.
    """
    ALTER TABLE cases_caseaccessrow SET (autovacuum_vacuum_scale_factor = 0.02,
                                         autovacuum_analyze_scale_factor = 0.01, fillfactor = 90)
    """,
]
_POSTGRESQL_REMOVE = [
    "DROP TRIGGER IF EXISTS cases_case_access_sort ON cases_case",
    "DROP TRIGGER IF EXISTS cases_access_sort_insert ON cases_caseaccessrow",
    "DROP FUNCTION IF EXISTS cases_access_sort_copy()",
    "DROP FUNCTION IF EXISTS cases_access_sort_fill()",
]
_SQLITE_INSTALL = [
    """
    CREATE TRIGGER cases_case_access_sort AFTER UPDATE OF updated_at ON cases_case
    WHEN OLD.updated_at IS NOT NEW.updated_at
    BEGIN UPDATE cases_caseaccessrow SET case_updated_at = NEW.updated_at WHERE case_id = NEW.id; END
    """,
    """
    CREATE TRIGGER cases_access_sort_insert AFTER INSERT ON cases_caseaccessrow
    BEGIN UPDATE cases_caseaccessrow SET case_updated_at = (SELECT updated_at FROM cases_case WHERE id = NEW.case_id)
          WHERE id = NEW.id; END
    """,
]
_SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS cases_case_access_sort",
    "DROP TRIGGER IF EXISTS cases_access_sort_insert",
]


def _statements(vendor: str, *, install: bool) -> list[str]:
    if vendor == "postgresql":
        return _POSTGRESQL_INSTALL if install else _POSTGRESQL_REMOVE
    if vendor == "sqlite":
        return _SQLITE_INSTALL if install else _SQLITE_REMOVE
    raise NotSupportedError(f"The case access triggers exist for PostgreSQL and SQLite, not {vendor}.")


def triggers_install(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor, install=True):
        schema_editor.execute(sql, params=None)


def triggers_remove(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor, install=False):
        schema_editor.execute(sql, params=None)


def _flush(AccessRow, case_id, intervals, rows):
    for (agency_id, user_id), held in intervals.items():
        for piece in access_pieces(held):
            rows.append(AccessRow(case_id=case_id, agency_id=agency_id, user_id=user_id, rights=piece.rights,
                                  categories=piece.categories, valid_from=piece.valid_from,
                                  valid_until=piece.valid_until, case_updated_at=_EPOCH))


# A placeholder: the insert trigger copies the case's updated_at.
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


# Cases per batch: the object-permission rows of this many cases are read, folded and written at a
# time, so memory stays bounded whatever the size of the installation (23.9 million rows at a
# million cases), where reading them all first held every case's intervals in memory at once.
FILL_BATCH_CASES = 5000


def _case_batches(Case, db, size):
    """Ranges [low, high] of case ids, each holding at most `size` cases, in id order."""
    last = 0
    while True:
        ids = list(Case.objects.using(db).filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            return
        yield ids[0], ids[-1]
        last = ids[-1]


def rows_fill(apps, schema_editor):
    """The access rows of every case from its object-permission rows (group rows by the agency of
    the group, user rows by the user), a batch of cases at a time: two reads (group rows, user rows)
    and a bulk insert per batch. Each case's rows are complete within its batch, so the pieces are
    the same as when every row was read first."""
    Case = apps.get_model("cases", "Case")
    GroupRow = apps.get_model("cases", "CaseGroupObjectPermission")
    UserRow = apps.get_model("cases", "CaseUserObjectPermission")
    AccessRow = apps.get_model("cases", "CaseAccessRow")
    db = schema_editor.connection.alias
    for low, high in _case_batches(Case, db, FILL_BATCH_CASES):
        by_case: dict[int, dict] = {}
        group_rows = GroupRow.objects.using(db).filter(
            content_object_id__gte=low, content_object_id__lte=high, group__agency_group__isnull=False,
        ).values_list("content_object_id", "group__agency_group__agency_id", "permission__codename", "valid_from",
                      "valid_until")
        for case_id, agency_id, codename, valid_from, valid_until in group_rows.iterator(chunk_size=10000):
            by_case.setdefault(case_id, {}).setdefault((agency_id, None), []).append(
                (codename, valid_from, valid_until))
        user_rows = UserRow.objects.using(db).filter(
            content_object_id__gte=low, content_object_id__lte=high,
        ).values_list("content_object_id", "user_id", "permission__codename", "valid_from", "valid_until")
        for case_id, user_id, codename, valid_from, valid_until in user_rows.iterator(chunk_size=10000):
            by_case.setdefault(case_id, {}).setdefault((None, user_id), []).append(
                (codename, valid_from, valid_until))
        rows: list = []
        for case_id in sorted(by_case):
            _flush(AccessRow, case_id, by_case[case_id], rows)
        AccessRow.objects.using(db).bulk_create(rows, batch_size=5000)


class Migration(migrations.Migration):

    dependencies = [
        ('agencies', '0004_membership_triggers'),
        ('cases', '0013_risk_timeline_events'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CaseAccessRow',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('rights', models.PositiveSmallIntegerField(default=0)),
                ('categories', models.PositiveSmallIntegerField(default=0)),
                ('valid_from', models.DateTimeField(blank=True, null=True)),
                ('valid_until', models.DateTimeField(blank=True, null=True)),
                ('case_updated_at', models.DateTimeField()),
                ('agency', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='agencies.agency')),
                ('case', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='access_rows', to='cases.case')),
                ('user', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'case access row',
                'verbose_name_plural': 'case access rows',
                'indexes': [
                    models.Index(fields=['case'], name='case_access_case'),
                    models.Index(condition=models.Q(('agency__isnull', False)), fields=['agency', '-case_updated_at', '-case'],
                                 include=('rights', 'valid_from', 'valid_until'), name='case_access_agency_sort'),
                    models.Index(condition=models.Q(('user__isnull', False)), fields=['user', '-case_updated_at', '-case'],
                                 include=('rights', 'valid_from', 'valid_until'), name='case_access_user_sort'),
                ],
                'constraints': [models.CheckConstraint(condition=models.Q(('agency__isnull', True), ('user__isnull', True), _connector='XOR'), name='case_access_one_holder')],
            },
        ),
        migrations.RunPython(triggers_install, triggers_remove),
        migrations.RunPython(rows_fill, migrations.RunPython.noop),
    ]
