# Notifications partitioned by month on PostgreSQL, their send-once keys in an unpartitioned table
# (notifications/partitions.py explains the design); the models' state does not change. SQLite: nothing.

from django.conf import settings
from django.db import migrations

import notifications.partitions


def partition(apps, schema_editor):
    notifications.partitions.notifications_partition(
        schema_editor.connection, months_ahead=settings.NOTIFICATIONS_PARTITION_MONTHS_AHEAD,
    )


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0014_meeting_invitation_kind"),
        # The month-partition functions are audit's (created again here, idempotently).
        ("audit", "0005_partition_by_month"),
    ]

    # Going back leaves the table partitioned: it behaves the same for the models of 0014 (forward
    # again finds it partitioned and only refreshes the functions).
    operations = [migrations.RunPython(partition, migrations.RunPython.noop, elidable=False)]
