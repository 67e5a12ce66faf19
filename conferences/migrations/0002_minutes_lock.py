from django.db import migrations

import conferences.triggers


class Migration(migrations.Migration):

    dependencies = [
        ("conferences", "0001_case_meetings"),
    ]

    operations = [
        conferences.triggers.InstallMinutesLock(),
    ]
