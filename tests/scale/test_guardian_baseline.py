"""The generic-guardian baseline of benchmarks/scale_benchmarks.py (issue 15): the fill drops the
table's unique constraint and secondary indexes for the insert and builds them again, so the table
must end as guardian's migrations left it, and the baseline page must show what HopLuc's list shows."""

import datetime
import sys
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from agencies.models import Membership, Role
from cases.selectors import case_list_visible_to
from scale.seed import seed_scale

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import scale_benchmarks  # noqa: E402

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the baseline fill is PostgreSQL's (pg_indexes)"),
]

NOW = datetime.datetime(2026, 11, 20, 3, 0, tzinfo=datetime.UTC)
TABLE = scale_benchmarks.GUARDIAN_GROUP_TABLE


def _catalogue() -> tuple:
    """Everything the fill could change: every index (the primary key's too) and every constraint."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname", [TABLE])
        indexes = cursor.fetchall()
        cursor.execute("SELECT conname, contype, pg_get_constraintdef(oid), convalidated, condeferrable, "
                       "condeferred FROM pg_constraint WHERE conrelid = %s::regclass ORDER BY conname", [TABLE])
        return indexes, cursor.fetchall()


def test_the_fill_leaves_the_table_as_the_migrations_did_and_the_page_shows_hoplucs_cases(db):
    seed_scale(cases=200, provinces=2, agencies_per_province=6, responders_per_agency=2, seed=11, now=NOW)
    before = _catalogue()
    with connection.cursor() as cursor:
        constraints, indexes = scale_benchmarks.table_keys(cursor, TABLE)
    # What the fill drops: guardian's unique constraint and five indexes (not the primary key).
    assert [name for name, _ in constraints] == ["guardian_groupobjectperm_group_id_permission_id_o_3f189f7c_uniq"]
    assert len(indexes) == 5 and not any(name.endswith("_pkey") for name, _ in indexes)

    with time_machine.travel(NOW, tick=False):
        rows = scale_benchmarks.guardian_generic_fill()
        assert rows > 0
        assert _catalogue() == before
        # A second fill for the same world keeps the rows (and the keys).
        assert scale_benchmarks.guardian_generic_fill() == rows
        assert _catalogue() == before

        # The unique constraint is in force again.
        with connection.cursor() as cursor:
            cursor.execute("SELECT group_id, permission_id, content_type_id, object_pk "
                           "FROM guardian_groupobjectpermission LIMIT 1")
            row = cursor.fetchone()
            with pytest.raises(IntegrityError), transaction.atomic():
                cursor.execute("INSERT INTO guardian_groupobjectpermission "
                               "(group_id, permission_id, content_type_id, object_pk) VALUES (%s, %s, %s, %s)", row)

        users = get_user_model().objects.filter(
            memberships__role=Role.RESPONDER).order_by("username").distinct()[:6]
        compared = 0
        for user in users:
            agencies = Membership.objects.filter(user=user, role__in=(Role.RESPONDER, Role.SUPERVISOR))
            if not agencies.exists():
                continue
            expected = list(case_list_visible_to(user=user).order_by("-updated_at", "-id")
                            .values_list("pk", flat=True)[:scale_benchmarks.PAGE])
            page = [case.pk for case in scale_benchmarks.guardian_generic_page(user)]
            assert page == expected
            compared += bool(expected)
        assert compared >= 3
