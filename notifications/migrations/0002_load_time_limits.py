"""Load the legal time limits of notifications/data/time_limits.yaml (re-run: manage.py load_time_limits)."""

from django.db import migrations


def load(apps, schema_editor):
    from notifications.loaders import time_limit_load_reference

    time_limit_load_reference(model=apps.get_model("notifications", "LegalTimeLimit"))


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
