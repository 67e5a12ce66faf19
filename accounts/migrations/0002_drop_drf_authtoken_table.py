"""DRF's authtoken app is gone: its table held every API token in clear text, and none of them may
outlive this change. Dropped where it exists (installations migrated before django-rest-knox)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_signin_session")]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", reverse_sql=migrations.RunSQL.noop),
    ]
