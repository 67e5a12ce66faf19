import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from audit.models import AuditEvent
from audit.services import audit_record


def _raw(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_raw_update_is_refused(five_events):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        _raw("UPDATE audit_auditevent SET reason = %s WHERE position = 2", ["rewritten"])
    assert AuditEvent.objects.get(position=2).reason == ""


def test_raw_delete_is_refused(five_events):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        _raw("DELETE FROM audit_auditevent WHERE position = 2")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        _raw("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.count() == 5


def test_truncate_is_refused_on_postgresql(five_events):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; an unqualified DELETE is refused instead (test above)")
    # TRUNCATE would first refuse over the fixture's pending deferred foreign-key checks.
    _raw("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        _raw("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() == 5


def test_orm_update_and_delete_are_refused(five_events):
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(position=3).update(reason="rewritten")
    event = AuditEvent.objects.get(position=3)
    event.reason = "rewritten"
    with pytest.raises(IntegrityError), transaction.atomic():
        event.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.get(position=4).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 5
    assert AuditEvent.objects.get(position=3).reason == ""


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_table_and_keeps_it_append_only():
    audit_record(actor=None, action="view")
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    audit_record(actor=None, action="view")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 1
