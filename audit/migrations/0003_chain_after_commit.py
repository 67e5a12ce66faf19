# Events are inserted unchained (seq from a sequence, no lock) and chained after commit.

from django.db import migrations, models

import audit.triggers


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_breach"),
    ]

    operations = [
        audit.triggers.RemoveAppendOnlyTriggers(),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigAutoField(primary_key=True, serialize=False, verbose_name="sequence number"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="position",
            field=models.BigIntegerField(blank=True, null=True, unique=True, verbose_name="chain position"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64, null=True, verbose_name="previous hash"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, max_length=64, null=True, verbose_name="hash"),
        ),
        # Until now seq was the chain position.
        migrations.RunSQL("UPDATE audit_auditevent SET position = seq", migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("position__isnull", True)), fields=["seq"], name="audit_event_unchained",
            ),
        ),
        audit.triggers.InstallAppendOnlyTriggers(version=2),
    ]
