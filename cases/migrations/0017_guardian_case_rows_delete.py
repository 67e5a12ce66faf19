"""guardian's object-permission rows of cases are no longer written (issue 15): the access rows
(cases.CaseAccessRow, filled by 0014 and kept by cases.sharing) are the one representation, and
object checks answer from them (cases.permission_backend). The old rows are deleted here in batches,
each committed on its own (on PostgreSQL), so that an installation of a million cases (23.9 million
rows) never holds one huge transaction nor its locks. The tables stay, empty.

Not reversible into the old rows: going back, `manage.py shell -c "..."` re-running
cases.sharing.case_permissions_sync of the previous release writes them again."""

from django.db import migrations

# Rows per DELETE: each batch a short statement (and on PostgreSQL a transaction of its own).
DELETE_BATCH = 20000


def _delete_in_batches(model, db) -> None:
    last = 0
    while True:
        ids = list(model.objects.using(db).filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)
                   [:DELETE_BATCH])
        if not ids:
            return
        model.objects.using(db).filter(pk__gte=ids[0], pk__lte=ids[-1]).delete()
        last = ids[-1]


def rows_delete(apps, schema_editor):
    db = schema_editor.connection.alias
    for name in ("CaseGroupObjectPermission", "CaseUserObjectPermission"):
        _delete_in_batches(apps.get_model("cases", name), db)


class Migration(migrations.Migration):
    # Each batch commits by itself: no transaction around the whole deletion.
    atomic = False

    dependencies = [
        ("cases", "0016_meeting_timeline_events"),
    ]

    operations = [
        migrations.RunPython(rows_delete, migrations.RunPython.noop, atomic=False),
    ]
