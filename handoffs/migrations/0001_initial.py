"""Handoff moves from cases to handoffs: in the migration state only. The table stays cases_handoff
(Meta.db_table), so no SQL runs; cases 0015 removes the old model from the state."""

import encryption.fields
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('agencies', '0004_membership_triggers'),
        ('cases', '0014_case_access_rows'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Handoff',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('referral', 'Referral: asks for a service, the lead stays'), ('transfer', 'Transfer: moves the lead')], max_length=10, verbose_name='kind')),
                        ('services', models.JSONField(default=list, verbose_name='services asked')),
                        ('urgency', models.CharField(choices=[('emergency', 'Emergency'), ('urgent', 'Urgent'), ('standard', 'Standard')], max_length=10, verbose_name='urgency')),
                        ('categories', models.JSONField(blank=True, default=list, verbose_name='categories to share')),
                        ('message', encryption.fields.EncryptedTextField(blank=True, verbose_name='message to the receiving agency')),
                        ('emergency_override', models.BooleanField(default=False, verbose_name='emergency override (danger to life)')),
                        ('override_reason', encryption.fields.EncryptedTextField(blank=True, verbose_name='reason for the override')),
                        ('status', models.CharField(choices=[('sent', 'Sent'), ('accepted', 'Accepted'), ('declined', 'Declined'), ('withdrawn', 'Withdrawn'), ('completed', 'Completed')], default='sent', max_length=10, verbose_name='status')),
                        ('sent_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='sent at')),
                        ('due_at', models.DateTimeField(verbose_name='response due')),
                        ('viewed_at', models.DateTimeField(blank=True, null=True, verbose_name='first viewed at')),
                        ('responded_at', models.DateTimeField(blank=True, null=True, verbose_name='answered at')),
                        ('decline_reason', encryption.fields.EncryptedTextField(blank=True, verbose_name='reason for declining')),
                        ('completed_at', models.DateTimeField(blank=True, null=True, verbose_name='completed at')),
                        ('outcome', encryption.fields.EncryptedTextField(blank=True, verbose_name='outcome')),
                        ('withdrawn_at', models.DateTimeField(blank=True, null=True, verbose_name='withdrawn at')),
                        ('withdraw_reason', encryption.fields.EncryptedTextField(blank=True, verbose_name='reason for withdrawing')),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='handoffs', to='cases.case')),
                        ('closed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('forwarded_from', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='forwarded_to', to='handoffs.handoff')),
                        ('from_agency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='handoffs_sent', to='agencies.agency')),
                        ('responded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('sent_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('to_agency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='handoffs_received', to='agencies.agency')),
                        ('viewed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'handoff',
                        'verbose_name_plural': 'handoffs',
                        'db_table': 'cases_handoff',
                        'ordering': ['-sent_at', '-id'],
                        'indexes': [models.Index(fields=['to_agency', 'status'], name='cases_hando_to_agen_fa8df7_idx'), models.Index(fields=['from_agency', 'status'], name='cases_hando_from_ag_ae420b_idx'), models.Index(fields=['case', 'status'], name='cases_hando_case_id_20d186_idx')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('from_agency', models.F('to_agency')), _negated=True), name='handoff_not_to_itself'), models.CheckConstraint(condition=models.Q(models.Q(('status', 'declined'), _negated=True), models.Q(('decline_reason', ''), _negated=True), _connector='OR'), name='handoff_decline_has_reason'), models.CheckConstraint(condition=models.Q(('emergency_override', False), models.Q(('override_reason', ''), _negated=True), _connector='OR'), name='handoff_override_has_reason'), models.UniqueConstraint(condition=models.Q(('status__in', ['sent', 'accepted'])), fields=('case', 'to_agency'), name='handoff_one_open_per_agency', violation_error_message='This agency already has an open handoff of this case.'), models.UniqueConstraint(condition=models.Q(('kind', 'transfer'), ('status', 'sent')), fields=('case',), name='handoff_one_waiting_transfer', violation_error_message='A transfer of this case is already waiting for an answer.')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
