"""The reviews point at the moved models (handoffs.Handoff, permissions.BreakGlassUse): state only,
the tables and their foreign keys are the same, so no SQL runs."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('handoffs', '0001_initial'),
        ('permissions', '0001_initial'),
        ('supervision', '0002_case_keys_sealed_text'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='breakglassreview',
                    name='use',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reviews', to='permissions.breakglassuse'),
                ),
                migrations.AlterField(
                    model_name='handoffreview',
                    name='handoff',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reviews', to='handoffs.handoff'),
                ),
            ],
            database_operations=[],
        ),
    ]
