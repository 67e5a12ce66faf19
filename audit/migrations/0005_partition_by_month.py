# The audit trail partitioned by month on PostgreSQL (audit/partitions.py explains the design); the
# model's state does not change. SQLite: nothing.

from django.conf import settings
from django.db import migrations

import audit.partitions
import audit.triggers


def partition(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for sql in audit.partitions.FUNCTIONS_SQL:
            cursor.execute(sql)
    if audit.partitions.is_partitioned(connection, audit.partitions.AUDIT_EVENT_TABLE):
        return
    audit.triggers.append_only_remove(connection)
    audit.partitions.convert_to_monthly(
        connection, audit.partitions.AUDIT_EVENT_TABLE, audit.partitions.PARTITION_KEY,
        months_ahead=settings.AUDIT_PARTITION_MONTHS_AHEAD,
    )
    audit.triggers.append_only_install(connection)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0004_case_anonymised_action"),
    ]

    # Going back leaves the table partitioned: it behaves the same for the models of 0004 (forward
    # again finds it partitioned and only refreshes the functions).
    operations = [migrations.RunPython(partition, migrations.RunPython.noop, elidable=False)]
