"""BreakGlassUse moves from cases to permissions: in the migration state only. The table stays
cases_breakglassuse (Meta.db_table), so no SQL runs; cases 0015 removes the old model from the state."""

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
                    name='BreakGlassUse',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('reason', encryption.fields.EncryptedTextField(verbose_name='reason')),
                        ('categories', models.JSONField(blank=True, default=list, verbose_name='categories opened')),
                        ('started_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='opened at')),
                        ('ends_at', models.DateTimeField(verbose_name='access ends at')),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='break_glass_uses', to='cases.case')),
                        ('lead_agency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='agencies.agency')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'break-glass use',
                        'verbose_name_plural': 'break-glass uses',
                        'db_table': 'cases_breakglassuse',
                        'ordering': ['-started_at', '-id'],
                        'permissions': [('break_glass', 'Can open a case not shared with their agency (break-glass)')],
                        'indexes': [models.Index(fields=['lead_agency', 'started_at'], name='cases_break_lead_ag_f20d40_idx'), models.Index(fields=['user', 'started_at'], name='cases_break_user_id_381d33_idx')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='break_glass_has_reason'), models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('started_at'))), name='break_glass_ends_after_start')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
