from django.conf import settings
from django.db import migrations

import agencies.triggers


class Migration(migrations.Migration):

    dependencies = [
        ("agencies", "0003_initial_password_and_account_release"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        agencies.triggers.InstallMembershipTriggers(),
    ]
