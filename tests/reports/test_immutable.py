"""A published report cannot be replaced: the database refuses UPDATE, DELETE and TRUNCATE of the
reports table (PostgreSQL and SQLite), so deleting a report and inserting an altered copy with the
same id, version and a recomputed hash is impossible even for SQL that bypasses the model. Only
`flush` (which empties test and development databases) lifts the DELETE/TRUNCATE triggers, for
its own length."""

import copy
import datetime

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from reports.models import MonthlyReport
from reports.services import content_hash


def _report() -> MonthlyReport:
    data = {"period": "2026-10", "tables": [{"key": "new_cases", "total": 12}]}
    return MonthlyReport.objects.create(
        period=datetime.date(2026, 10, 1), version=1, published_at=timezone.now(), data=data,
        content_hash=content_hash(data), code_version="test",
    )


def _raw(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_delete_then_insert_of_an_altered_copy_is_refused(db):
    report = _report()
    forged = copy.deepcopy(report.data)
    forged["tables"][0]["total"] = 3
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        _raw("DELETE FROM reports_monthlyreport WHERE id = %s", [report.pk])
        MonthlyReport.objects.create(  # never reached
            id=report.pk, period=report.period, version=1, published_at=report.published_at, data=forged,
            content_hash=content_hash(forged), code_version=report.code_version,
        )
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        _raw("DELETE FROM reports_monthlyreport")
    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyReport.objects.filter(pk=report.pk).delete()  # the queryset bypasses the model's delete()
    report.refresh_from_db()
    assert report.data["tables"][0]["total"] == 12


def test_truncate_is_refused_on_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; an unqualified DELETE is refused instead (test above)")
    _report()
    _raw("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses to run over pending deferred checks
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        _raw("TRUNCATE reports_monthlyreport CASCADE")
    assert MonthlyReport.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_table_and_keeps_it_protected():
    _report()
    call_command("flush", interactive=False, verbosity=0)
    assert not MonthlyReport.objects.exists()
    _report()
    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyReport.objects.all().delete()
    assert MonthlyReport.objects.count() == 1
