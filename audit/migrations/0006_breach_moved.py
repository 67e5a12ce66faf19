"""The personal-data breach register leaves audit for privacy (privacy 0002): removed from the
migration state only, its tables keep their names and rows (Meta.db_table), so no SQL runs.

The content type follows the model (app_label audit -> privacy), so the permissions keyed to it keep
their rows, ids and grants. On a fresh database there are no content types yet (post_migrate makes
them after the last migration) and nothing is renamed."""

from django.db import migrations


def _relabel(apps, old, new):
    ContentType = apps.get_model("contenttypes", "ContentType")
    moving = ContentType.objects.filter(app_label=old, model="breach").first()
    if moving is None:
        return
    # A content type under the new label exists only if post_migrate ran for the new code before
    # this migration (e.g. `migrate privacy` alone); its permissions are granted to nobody: keep the old.
    ContentType.objects.filter(app_label=new, model="breach").delete()
    moving.app_label = new
    moving.save(update_fields=["app_label"])


def forwards(apps, schema_editor):
    _relabel(apps, "audit", "privacy")


def backwards(apps, schema_editor):
    _relabel(apps, "privacy", "audit")


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0005_partition_by_month"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("privacy", "0002_breach_moved"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Breach")],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
