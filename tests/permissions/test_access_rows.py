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


def _legacy_rows_from(access_rows) -> None:
    """The guardian object-permission rows the services wrote before issue 15, standing for the
    given access rows: per codename of each piece, one row per case-role group of the agency (or one
    row of the break-glass user), over the piece's interval."""
    from django.contrib.auth.models import Permission

    from agencies.models import AgencyGroup
    from cases.models import CaseGroupObjectPermission, CaseUserObjectPermission
    from permissions.policy import CASE_ROLES

    permission = dict(Permission.objects.filter(content_type__app_label="cases").values_list("codename", "pk"))
    for row in access_rows:
        for codename in codenames_from_masks(row.rights, row.categories):
            interval = {"valid_from": row.valid_from, "valid_until": row.valid_until,
                        "permission_id": permission[codename], "content_object_id": row.case_id}
            if row.user_id is not None:
                CaseUserObjectPermission.objects.create(user_id=row.user_id, **interval)
                continue
            for group_id in AgencyGroup.objects.filter(agency_id=row.agency_id, role__in=CASE_ROLES).values_list(
                    "group_id", flat=True):
                CaseGroupObjectPermission.objects.create(group_id=group_id, **interval)


@pytest.mark.django_db
def test_the_migration_fills_the_rows_the_services_write(world, case, monkeypatch):
    """Migration cases.0014 rebuilds, from the object-permission rows alone, exactly the access rows
    that case_permissions_sync writes (lead, referral by consent, break-glass), a batch of cases at a
    time (one case per batch here, so that batches meet); 0015 then deletes the old rows in batches."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from cases.models import CaseGroupObjectPermission, CaseUserObjectPermission
    from tests.permissions.conftest import bare_case

    share(world, case, agency=world.health, granted=[DataCategory.MEDICAL],
          expires_at=timezone.now() + datetime.timedelta(days=3))
    other = bare_case(world, number="HN-2026-000777")
    CaseAccessRow.objects.create(case=other, user=world.outsider_responder, rights=VIEW_BIT,
                                 categories=CATEGORY_BITS["view_medical"], case_updated_at=other.updated_at,
                                 valid_from=T0, valid_until=timezone.now() + datetime.timedelta(hours=4))
    fields = ("case_id", "agency_id", "user_id", "valid_from", "valid_until", "rights", "categories",
              "case_updated_at")
    written = set(CaseAccessRow.objects.values_list(*fields))
    _legacy_rows_from(CaseAccessRow.objects.all())
    CaseAccessRow.objects.all().delete()
    fill = importlib.import_module("cases.migrations.0014_case_access_rows")
    monkeypatch.setattr(fill, "FILL_BATCH_CASES", 1)
    # rows_fill reads only the editor's connection (a real schema editor refuses SQLite transactions).
    editor = SimpleNamespace(connection=connection)
    fill.rows_fill(apps, editor)
    assert set(CaseAccessRow.objects.values_list(*fields)) == written
    assert len(written) == 4
    drop = importlib.import_module("cases.migrations.0017_guardian_case_rows_delete")
    monkeypatch.setattr(drop, "DELETE_BATCH", 2)
    assert CaseGroupObjectPermission.objects.count() > 2
    drop.rows_delete(apps, editor)
    assert not CaseGroupObjectPermission.objects.exists() and not CaseUserObjectPermission.objects.exists()
    assert set(CaseAccessRow.objects.values_list(*fields)) == written
