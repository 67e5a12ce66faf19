"""The reasons typed about a meeting (why it was cancelled, why its minutes were corrected) were stored in
plaintext and outlived the erasure of the cases on its agenda: they are now sealed with the meeting's own
data key (conferences.keys), destroyed when a case on the agenda is anonymised.

Existing rows: a meeting with a reason gets its key and the reason is sealed with it; a meeting with a case
on its agenda that is already anonymised gets a key already destroyed and its reasons are blanked (they
outlived that erasure: nothing of them is kept, as the erasure would now have left them unreadable). The
minutes lock (conferences.triggers) is lifted for these writes and installed again at the end; it refuses
every other change to signed minutes as before.

The audit events of corrections made before this migration hold the reason in plaintext: the trail is
append-only and hash-chained, so they are not rewritten (README, "Encryption and crypto-shredding").

Values are read and written with plain SQL: through the ORM the field would open and seal them.
"""

import django.db.models.deletion
from cryptography.fernet import Fernet
from django.db import migrations, models
from django.utils import timezone

import conferences.triggers
import encryption.fields
from encryption import crypto

_REASONS = [("conferences_casemeeting", "id", "cancelled_reason"),
            ("conferences_meetingminutes", "meeting_id", "correction_reason")]


def _rows(cursor, quote):
    """(meeting id, table, row id, value) of every reason written, plaintext or sealed."""
    found = []
    for table, meeting_column, column in _REASONS:
        cursor.execute(f"SELECT {quote(meeting_column)}, id, {quote(column)} FROM {quote(table)} "  # noqa: S608
                       f"WHERE {quote(column)} <> ''")
        found += [(meeting_id, table, column, pk, value) for meeting_id, pk, value in cursor.fetchall()]
    return found


def _constraints_checked(schema_editor):
    """On PostgreSQL, check the foreign keys these writes deferred now: the migration's next operations alter
    the tables, which PostgreSQL refuses while checks on them are pending."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


def seal_reasons(apps, schema_editor):
    CaseKey = apps.get_model("cases", "CaseKey")
    CaseMeeting = apps.get_model("conferences", "CaseMeeting")
    MeetingCase = apps.get_model("conferences", "MeetingCase")
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    now = timezone.now()
    erased = set(MeetingCase.objects.filter(case__anonymised_at__isnull=False).values_list("meeting_id", flat=True))
    with connection.cursor() as cursor:
        rows = _rows(cursor, quote)
        keys: dict[int, tuple[str, Fernet | None]] = {}
        for meeting_id in sorted({row[0] for row in rows} | erased):
            kid, raw = crypto.data_key_new()
            if meeting_id in erased:
                key = CaseKey.objects.create(kid=kid, wrapped_key="", destroyed_at=now)
                keys[meeting_id] = (kid, None)
            else:
                key = CaseKey.objects.create(kid=kid, wrapped_key=raw)  # the field wraps it under the key ring
                keys[meeting_id] = (kid, Fernet(raw.encode()))
            CaseMeeting.objects.filter(pk=meeting_id).update(data_key_id=key.pk)
        for meeting_id, table, column, pk, value in rows:
            if crypto.is_sealed(value):
                continue
            kid, fernet = keys[meeting_id]
            sealed = crypto.seal(value, kid=kid, key=fernet) if fernet else ""
            cursor.execute(f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE id = %s",  # noqa: S608
                           [sealed, pk])
    _constraints_checked(schema_editor)


def open_reasons(apps, schema_editor):
    """Backwards: the reasons in plaintext again (blank where the meeting's key was destroyed), the keys gone."""
    CaseKey = apps.get_model("cases", "CaseKey")
    CaseMeeting = apps.get_model("conferences", "CaseMeeting")
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for _meeting_id, table, column, pk, value in _rows(cursor, quote):
            if not crypto.is_sealed(value):
                continue
            row = CaseKey.objects.filter(kid=crypto.sealed_kid(value)).first()  # the field unwraps it
            opened = crypto.unseal_with(value, Fernet(row.wrapped_key.encode())) if row and row.wrapped_key else ""
            cursor.execute(f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE id = %s",  # noqa: S608
                           [opened, pk])
    key_ids = list(CaseMeeting.objects.exclude(data_key_id=None).values_list("data_key_id", flat=True))
    CaseMeeting.objects.update(data_key_id=None)
    with connection.cursor() as cursor:  # the meetings' keys only: no other row points at them
        for key_id in key_ids:
            cursor.execute(f"DELETE FROM {quote(CaseKey._meta.db_table)} WHERE id = %s", [key_id])  # noqa: S608
    _constraints_checked(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0022_form_sending_fingerprint'),
        ('conferences', '0002_minutes_lock'),
    ]

    operations = [
        conferences.triggers.LiftMinutesLock(),
        migrations.AddField(
            model_name='casemeeting',
            name='data_key',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cases.casekey'),
        ),
        migrations.AlterField(
            model_name='casemeeting',
            name='cancelled_reason',
            field=encryption.fields.EncryptedTextField(blank=True, verbose_name='reason for cancelling'),
        ),
        migrations.AlterField(
            model_name='meetingminutes',
            name='correction_reason',
            field=encryption.fields.EncryptedTextField(blank=True, verbose_name='reason for the correction'),
        ),
        migrations.RunPython(seal_reasons, open_reasons),
        conferences.triggers.InstallMinutesLock(),
    ]
