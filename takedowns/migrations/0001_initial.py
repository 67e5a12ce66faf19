"""TakedownRequest moves from cases to takedowns: in the migration state only. The table stays
cases_takedownrequest (Meta.db_table), so no SQL runs; cases 0015 removes the old model from the state."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cases', '0014_case_access_rows'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='TakedownRequest',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('platform', models.CharField(choices=[('facebook', 'Facebook'), ('tiktok', 'TikTok'), ('youtube', 'YouTube'), ('zalo', 'Zalo'), ('telegram', 'Telegram'), ('x', 'X'), ('other', 'Other platform')], max_length=10, verbose_name='platform')),
                        ('content_reference_hash', models.CharField(db_index=True, editable=False, max_length=64)),
                        ('requested_at', models.DateTimeField(verbose_name='requested at')),
                        ('outcome', models.CharField(choices=[('pending', 'Pending'), ('removed', 'Removed'), ('refused', 'Refused by the platform'), ('no_response', 'No response')], default='pending', max_length=12, verbose_name='outcome')),
                        ('resolved_at', models.DateTimeField(blank=True, null=True, verbose_name='outcome known at')),
                        ('action', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='takedown_request', to='cases.action')),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='takedown_requests', to='cases.case')),
                        ('outcome_recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'takedown request',
                        'verbose_name_plural': 'takedown requests',
                        'db_table': 'cases_takedownrequest',
                        'ordering': ['-requested_at', '-id'],
                        'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('outcome', 'pending'), ('resolved_at__isnull', True)), models.Q(models.Q(('outcome', 'pending'), _negated=True), ('resolved_at__isnull', False)), _connector='OR'), name='takedown_resolved_when_not_pending'), models.CheckConstraint(condition=models.Q(('resolved_at__isnull', True), ('resolved_at__gte', models.F('requested_at')), _connector='OR'), name='takedown_resolved_after_request')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
