"""The personal-data breach register moves from audit to privacy: in the migration state only. The
tables stay audit_breach and audit_breach_affected_agencies (Meta.db_table), so no SQL runs; audit
0006 removes the old model from the state and moves its content type."""

import encryption.fields
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('agencies', '0004_membership_triggers'),
        ('audit', '0005_partition_by_month'),
        ('privacy', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Breach',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('recorded_at', models.DateTimeField(auto_now_add=True, verbose_name='recorded')),
                        ('status', models.CharField(choices=[('suspected', 'Suspected'), ('confirmed', 'Confirmed'), ('notified', 'Authority notified'), ('not_a_breach', 'Not a breach')], default='suspected', max_length=20, verbose_name='status')),
                        ('discovered_at', models.DateTimeField(verbose_name='time of discovery')),
                        ('occurred_at', models.DateTimeField(blank=True, null=True, verbose_name='time it happened (if known)')),
                        ('description', encryption.fields.EncryptedTextField(verbose_name='description of the breach')),
                        ('categories', models.JSONField(blank=True, default=list, verbose_name='categories of personal data')),
                        ('subjects_approx', models.PositiveIntegerField(blank=True, null=True, verbose_name='approximate number of data subjects')),
                        ('records_approx', models.PositiveIntegerField(blank=True, null=True, verbose_name='approximate number of records')),
                        ('consequences', encryption.fields.EncryptedTextField(blank=True, verbose_name='likely consequences')),
                        ('measures_taken', encryption.fields.EncryptedTextField(blank=True, verbose_name='measures taken')),
                        ('measures_proposed', encryption.fields.EncryptedTextField(blank=True, verbose_name='measures proposed')),
                        ('contact_point', models.CharField(help_text='The person or office the authority may contact about this breach (role, phone, email).', max_length=200, verbose_name='contact point')),
                        ('access_event_seqs', models.JSONField(blank=True, default=list, verbose_name='linked access records')),
                        ('due_at', models.DateTimeField(verbose_name='notification due')),
                        ('notified_at', models.DateTimeField(blank=True, null=True, verbose_name='time of notification')),
                        ('delay_reason', encryption.fields.EncryptedTextField(blank=True, verbose_name='reason for notifying late')),
                        ('affected_agencies', models.ManyToManyField(blank=True, related_name='breaches', to='agencies.agency', verbose_name='affected agencies')),
                        ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='breaches_recorded', to=settings.AUTH_USER_MODEL, verbose_name='recorded by')),
                    ],
                    options={
                        'verbose_name': 'personal-data breach',
                        'verbose_name_plural': 'personal-data breaches',
                        'db_table': 'audit_breach',
                        'ordering': ['-recorded_at', '-id'],
                        'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('status', 'notified'), _negated=True), ('notified_at__isnull', False), _connector='OR'), name='breach_notified_has_time')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
