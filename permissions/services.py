"""Applying derived grants as guardian direct-foreign-key object-permission rows."""

import datetime
from collections.abc import Mapping

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from agencies.models import AgencyGroup

from .access import grant_pieces
from .policy import CASE_ROLES, AgencyGrants

# (group or user id, permission id, valid_from)
RowKey = tuple[int, int, datetime.datetime | None]


def _permission_ids(obj: models.Model) -> dict[str, int]:
    content_type = ContentType.objects.get_for_model(obj)
    return dict(Permission.objects.filter(content_type=content_type).values_list("codename", "id"))


def _rows_replace(*, perm_model: type[models.Model], obj: models.Model, holder_field: str,
                  desired: dict[RowKey, tuple[str, datetime.datetime | None]]) -> None:
    """Make the rows of `obj` equal to `desired`. Rows that stay are updated only when their reason
    or end changed."""
    holder_id = f"{holder_field}_id"
    existing = {
        (getattr(row, holder_id), row.permission_id, row.valid_from): row
        for row in perm_model.objects.select_for_update().filter(content_object=obj)
    }
    stale = [row.pk for key, row in existing.items() if key not in desired]
    if stale:
        perm_model.objects.filter(pk__in=stale).delete()
    changed = []
    for key, (reason, valid_until) in desired.items():
        row = existing.get(key)
        if row is not None and (row.reason != reason or row.valid_until != valid_until):
            row.reason, row.valid_until = reason, valid_until
            changed.append(row)
    if changed:
        perm_model.objects.bulk_update(changed, ["reason", "valid_until"])
    # bulk_create skips guardian's per-row content-type check, which the permission ids already guarantee.
    perm_model.objects.bulk_create(
        [
            perm_model(**{holder_id: holder, "permission_id": permission_id, "content_object": obj,
                          "reason": reason, "valid_from": valid_from, "valid_until": valid_until})
            for (holder, permission_id, valid_from), (reason, valid_until) in desired.items()
            if (holder, permission_id, valid_from) not in existing
        ]
    )


@transaction.atomic
def object_permissions_replace(
    *, perm_model: type[models.Model], obj: models.Model, agency_grants: Mapping[int, AgencyGrants]
) -> None:
    """Make the group permission rows of `obj` equal to `agency_grants`, granted to the case roles'
    groups of each agency, one row per interval."""
    groups_by_agency: dict[int, list[int]] = {}
    for agency_id, group_id in AgencyGroup.objects.filter(
        agency_id__in=list(agency_grants), role__in=CASE_ROLES
    ).values_list("agency_id", "group_id"):
        groups_by_agency.setdefault(agency_id, []).append(group_id)
    desired = group_permission_rows(agency_grants=agency_grants, groups_by_agency=groups_by_agency,
                                    permission_ids=_permission_ids(obj))
    _rows_replace(perm_model=perm_model, obj=obj, holder_field="group", desired=desired)


def group_permission_rows(
    *, agency_grants: Mapping[int, AgencyGrants], groups_by_agency: Mapping[int, list[int]],
    permission_ids: Mapping[str, int],
) -> dict[RowKey, tuple[str, datetime.datetime | None]]:
    """The group permission rows that stand for `agency_grants` on one object: one row per case-role
    group of each agency, right or category, and interval, as {(group, permission, valid_from):
    (reason, valid_until)}. The one statement of the representation: object_permissions_replace
    writes these rows, and `manage.py seed_scale` bulk-inserts the same ones."""
    desired: dict[RowKey, tuple[str, datetime.datetime | None]] = {}
    for agency_id, grants in agency_grants.items():
        for group_id in groups_by_agency.get(agency_id, ()):
            for intervals in grants.grants.values():
                for grant in intervals:
                    key = (group_id, permission_ids[grant.codename], grant.valid_from)
                    desired[key] = (grant.reason, grant.valid_until)
    return desired


@transaction.atomic
def user_object_permissions_replace(
    *, perm_model: type[models.Model], obj: models.Model, user_grants: Mapping[int, AgencyGrants]
) -> None:
    """The same for rows held by single users (break-glass): `user_grants` is keyed by user id."""
    permission_ids = _permission_ids(obj)
    desired: dict[RowKey, tuple[str, datetime.datetime | None]] = {}
    for user_id, grants in user_grants.items():
        for intervals in grants.grants.values():
            for grant in intervals:
                desired[(user_id, permission_ids[grant.codename], grant.valid_from)] = (grant.reason, grant.valid_until)
    _rows_replace(perm_model=perm_model, obj=obj, holder_field="user", desired=desired)


# (agency id, user id, valid_from, valid_until, rights, categories)
AccessKey = tuple[int | None, int | None, datetime.datetime | None, datetime.datetime | None, int, int]


@transaction.atomic
def access_keys(*, agency_grants: Mapping[int, AgencyGrants],
                user_grants: Mapping[int, AgencyGrants]) -> set[AccessKey]:
    """The access rows of one case as keys (agency, user, valid_from, valid_until, rights, categories):
    the grants of its agencies and of its break-glass users, folded into pieces (permissions.access).
    access_rows_replace writes them; `manage.py seed_scale` bulk-inserts the same ones."""
    desired: set[AccessKey] = set()
    for holder, grants_by_holder in ((0, agency_grants), (1, user_grants)):
        for holder_id, grants in grants_by_holder.items():
            agency_id, user_id = (holder_id, None) if holder == 0 else (None, holder_id)
            for piece in grant_pieces(grants):
                desired.add((agency_id, user_id, piece.valid_from, piece.valid_until, piece.rights, piece.categories))
    return desired


def access_rows_replace(
    *, access_model: type[models.Model], case: models.Model, agency_grants: Mapping[int, AgencyGrants],
    user_grants: Mapping[int, AgencyGrants],
) -> None:
    """Make the access rows of `case` (cases.models.CaseAccessRow) equal to the grants of its
    agencies and of its break-glass users, folded into pieces (permissions.access). Rows that stay
    are left alone; the database fills the sort key of new ones."""
    desired = access_keys(agency_grants=agency_grants, user_grants=user_grants)
    existing: dict[AccessKey, int] = {
        (agency_id, user_id, valid_from, valid_until, rights, categories): pk
        for pk, agency_id, user_id, valid_from, valid_until, rights, categories in access_model.objects.filter(
            case=case).values_list("pk", "agency_id", "user_id", "valid_from", "valid_until", "rights", "categories")
    }
    stale = [pk for key, pk in existing.items() if key not in desired]
    if stale:
        access_model.objects.filter(pk__in=stale).delete()
    fresh = [key for key in desired if key not in existing]
    if fresh:
        # case_updated_at: a placeholder the insert trigger replaces with the case's updated_at.
        access_model.objects.bulk_create([
            access_model(case=case, agency_id=agency_id, user_id=user_id, valid_from=valid_from,
                         valid_until=valid_until, rights=rights, categories=categories,
                         case_updated_at=case.updated_at or datetime.datetime.now(datetime.UTC))
            for agency_id, user_id, valid_from, valid_until, rights, categories in sorted(fresh, key=str)
        ])
