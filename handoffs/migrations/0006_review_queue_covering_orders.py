"""The incoming and outgoing orders of every status carry the handoff's status, emergency override and due
time (INCLUDE, PostgreSQL; other databases ignore it): the supervisor's review queue counts an agency's
handoffs for review and picks its first ones off these indexes alone, not off the table's rows
(supervision.queue; issue 15). The same keys, so every read that used them still does."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('handoffs', '0005_counterpart_indexes'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='handoff',
            name='handoff_incoming_order',
        ),
        migrations.RemoveIndex(
            model_name='handoff',
            name='handoff_outgoing_order',
        ),
        migrations.AddIndex(
            model_name='handoff',
            index=models.Index(fields=['to_agency', '-sent_at', '-id'], include=('status', 'emergency_override', 'due_at'), name='handoff_incoming_order'),
        ),
        migrations.AddIndex(
            model_name='handoff',
            index=models.Index(fields=['from_agency', '-sent_at', '-id'], include=('status', 'emergency_override', 'due_at'), name='handoff_outgoing_order'),
        ),
    ]
