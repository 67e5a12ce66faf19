"""Handoff, TakedownRequest and BreakGlassUse leave cases for their apps (handoffs, takedowns,
permissions): removed from the migration state only, their tables keep their names and rows (each
model's Meta.db_table), so no SQL runs on the tables. Runs after the new apps' 0001 created them in
the state and after the reviews' foreign keys (supervision 0003) were pointed at the new labels.

The content types follow the models: their app_label changes, so the permissions keyed to them
(the break-glass right `cases.break_glass` becomes `permissions.break_glass`, add/change/view/delete)
keep their rows, their ids and every grant to users and groups. On a fresh database there are no
content types yet (post_migrate makes them after the last migration) and nothing is renamed."""

from django.db import migrations

MOVED = (("handoff", "handoffs"), ("takedownrequest", "takedowns"), ("breakglassuse", "permissions"))


def _relabel(apps, pairs):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model, old, new in pairs:
        moving = ContentType.objects.filter(app_label=old, model=model).first()
        if moving is None:
            continue
        # A content type under the new label exists only if post_migrate ran for the new code before
        # this migration (e.g. `migrate handoffs` alone); its permissions are fresh and granted to
        # nobody, the old ones carry the grants: keep the old rows.
        ContentType.objects.filter(app_label=new, model=model).delete()
        moving.app_label = new
        moving.save(update_fields=["app_label"])


def forwards(apps, schema_editor):
    _relabel(apps, [(model, "cases", app) for model, app in MOVED])


def backwards(apps, schema_editor):
    _relabel(apps, [(model, app, "cases") for model, app in MOVED])


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0014_case_access_rows"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("handoffs", "0001_initial"),
        ("permissions", "0001_initial"),
        ("supervision", "0003_reviews_point_at_moved_models"),
        ("takedowns", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Handoff"),
                migrations.DeleteModel(name="TakedownRequest"),
                migrations.DeleteModel(name="BreakGlassUse"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
