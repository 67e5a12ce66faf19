# PROVISIONAL (issue 12 part 2 stand-in, replaced at merge): only adds Case.anonymised_at.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0007_permission_validity_intervals"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="anonymised_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="anonymised at"),
        ),
    ]
