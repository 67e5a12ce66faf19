"""An agency's cases not closed, by id (supervision.queue.queue_risk_lowered: the review queue reads the
agency's open cases off this index alone; issue 15)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0017_guardian_case_rows_delete'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('status', 'closed'), _negated=True), fields=['lead_agency', 'id'], name='case_open_by_lead'),
        ),
    ]
