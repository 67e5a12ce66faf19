"""Access rows: the policy's intervals folded into one row per holder and instant, and the case's
sort key kept by the database."""

import datetime

import pytest
from django.utils import timezone

from cases.models import CaseAccessRow
from cases.selectors import case_list_visible_to
from permissions.access import CATEGORY_BITS, RIGHT_BITS, VIEW_BIT, access_pieces, codenames_from_masks
from permissions.categories import DataCategory

from .conftest import share

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
T1 = T0 + datetime.timedelta(days=1)
T2 = T0 + datetime.timedelta(days=2)


def test_pieces_cut_at_every_start_and_end():
    pieces = access_pieces([("view_case", None, T2), ("view_medical", T1, T2), ("log_action", None, T2)])
    assert [(p.valid_from, p.valid_until) for p in pieces] == [(None, T1), (T1, T2)]
    assert codenames_from_masks(pieces[0].rights, pieces[0].categories) == {"view_case", "log_action"}
    assert codenames_from_masks(pieces[1].rights, pieces[1].categories) == {"view_case", "log_action", "view_medical"}


def test_pieces_merge_when_the_bits_stay_and_skip_gaps():
    pieces = access_pieces([("view_case", None, T1), ("view_case", T1, None), ("view_identity", T2, None)])
    assert [(p.valid_from, p.valid_until, p.rights) for p in pieces] == [(None, T2, VIEW_BIT), (T2, None, VIEW_BIT)]
    assert access_pieces([("view_case", T0, T1), ("view_case", T2, None)])[1].valid_from == T2
    assert access_pieces([]) == []
    assert len(set(RIGHT_BITS.values()) | set(CATEGORY_BITS.values())) == 6  # distinct bits per field


@pytest.mark.django_db
def test_one_row_per_holder_and_the_sort_key_follows_the_case(world, case):
    share(world, case, agency=world.health, granted=[DataCategory.MEDICAL])
    rows = {row.agency_id: row for row in CaseAccessRow.objects.filter(case=case)}
    assert set(rows) == {case.lead_agency_id, world.health.pk}
    assert rows[world.health.pk].categories == CATEGORY_BITS["view_medical"]
    later = timezone.now() + datetime.timedelta(minutes=5)
    type(case).objects.filter(pk=case.pk).update(updated_at=later)
    assert set(CaseAccessRow.objects.filter(case=case).values_list("case_updated_at", flat=True)) == {later}
    (listed,) = case_list_visible_to(user=world.receiving_responder)
    assert listed.sort_at == later


@pytest.mark.django_db
def test_the_migration_fills_the_rows_the_services_write(world, case):
    """Migration cases.0013 rebuilds, from the object-permission rows alone, exactly the access rows
    that case_permissions_sync writes (lead, referral by consent, break-glass excluded: none here)."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    share(world, case, agency=world.health, granted=[DataCategory.MEDICAL],
          expires_at=timezone.now() + datetime.timedelta(days=3))
    fields = ("case_id", "agency_id", "user_id", "valid_from", "valid_until", "rights", "categories",
              "case_updated_at")
    written = set(CaseAccessRow.objects.values_list(*fields))
    CaseAccessRow.objects.all().delete()
    migration = importlib.import_module("cases.migrations.0014_case_access_rows")
    # rows_fill reads only the editor's connection (a real schema editor refuses SQLite transactions).
    migration.rows_fill(apps, SimpleNamespace(connection=connection))
    assert set(CaseAccessRow.objects.values_list(*fields)) == written
    assert len(written) == 2
