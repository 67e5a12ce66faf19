"""The handoff reviews of an agency by handoff (supervision.queue: the review queue leaves out what the
agency reviewed, read off this index alone; issue 15)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('supervision', '0005_case_handoffs'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='handoffreview',
            index=models.Index(fields=['agency', 'handoff'], name='handoff_review_agency_handoff'),
        ),
    ]
