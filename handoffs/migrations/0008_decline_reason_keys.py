"""Each handoff's decline reason key (encryption.crypto.reason_key of its reason), the indexes the supervisor's
register counts the reasons off (supervision.selectors.decline_reasons), and the keys of the reasons already
given (handoffs.reason_keys: in batches; none for a reason of an anonymised case), written before the indexes
are built.

Its cost, in one transaction that holds writes to the handoffs off: on the 20,000-case world (12,340 handoffs,
1,965 declined) the back-fill took 1.5 s (0.09 s of the migrating process's CPU, 0.16 s of PostgreSQL's; load 8),
the whole migration 6.6 s with Django's start; at a million cases (about 100,000 declined) about 50 times the
back-fill: some 75 s on a loaded machine (5 s and 8 s of CPU), plus a second or two for each index."""

from django.conf import settings
from django.db import migrations, models


def reason_keys_write(apps, schema_editor):
    from handoffs.reason_keys import decline_reason_keys_write

    decline_reason_keys_write(connection=schema_editor.connection, case_keys=apps.get_model("cases", "CaseKey"))


class Migration(migrations.Migration):

    dependencies = [
        ('agencies', '0004_membership_triggers'),
        ('cases', '0018_review_queue_open_cases_by_lead'),
        ('handoffs', '0007_waiting_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='handoff',
            name='decline_reason_key',
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(reason_keys_write, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name='handoff',
            index=models.Index(condition=models.Q(('decline_reason_key__isnull', False), ('status', 'declined')), fields=['from_agency', 'decline_reason_key', '-responded_at', '-id'], name='handoff_outgoing_declined'),
        ),
        migrations.AddIndex(
            model_name='handoff',
            index=models.Index(condition=models.Q(('decline_reason_key__isnull', False), ('status', 'declined')), fields=['to_agency', 'decline_reason_key', '-responded_at', '-id'], name='handoff_incoming_declined'),
        ),
    ]
