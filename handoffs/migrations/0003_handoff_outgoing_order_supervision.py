from django.db import migrations, models


class Migration(migrations.Migration):
    """The supervisor's register's first page (supervision.selectors._newest_sent_and_received): the
    agency's newest sent handoffs read off an index, as handoff_incoming_order gives the newest received."""

    dependencies = [
        ("handoffs", "0002_handoff_incoming_order"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="handoff",
            index=models.Index(fields=["from_agency", "-sent_at", "-id"], name="handoff_outgoing_order"),
        ),
    ]
