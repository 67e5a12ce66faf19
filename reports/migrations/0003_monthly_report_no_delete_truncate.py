from django.db import migrations

import reports.triggers


class Migration(migrations.Migration):
    """Published reports can no longer be deleted or truncated either (only updated was refused):
    a DELETE and an INSERT of an altered copy would otherwise replace one unnoticed."""

    dependencies = [
        ("reports", "0002_held_correction"),
    ]

    operations = [
        migrations.RunPython(reports.triggers.install_no_delete, reports.triggers.remove_no_delete),
    ]
