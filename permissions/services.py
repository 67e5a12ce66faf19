"""Applying derived grants as guardian direct-foreign-key object-permission rows."""

import datetime
from collections.abc import Mapping

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from agencies.models import AgencyGroup

from .policy import CASE_ROLES, AgencyGrants

RowKey = tuple[int, int]  # (group id, permission id)


@transaction.atomic
def object_permissions_replace(
    *, perm_model: type[models.Model], obj: models.Model, agency_grants: Mapping[int, AgencyGrants]
) -> None:
    """Make the group permission rows of `obj` equal to `agency_grants`, granted to the case roles'
    groups of each agency. Rows that stay are updated only when their reason or expiry changed."""
    content_type = ContentType.objects.get_for_model(obj)
    permission_ids = dict(
        Permission.objects.filter(content_type=content_type).values_list("codename", "id")
    )
    groups_by_agency: dict[int, list[int]] = {}
    for agency_id, group_id in AgencyGroup.objects.filter(
        agency_id__in=list(agency_grants), role__in=CASE_ROLES
    ).values_list("agency_id", "group_id"):
        groups_by_agency.setdefault(agency_id, []).append(group_id)

    desired: dict[RowKey, tuple[str, datetime.datetime | None]] = {}
    for agency_id, grants in agency_grants.items():
        for group_id in groups_by_agency.get(agency_id, ()):
            for grant in grants.grants.values():
                desired[(group_id, permission_ids[grant.codename])] = (grant.reason, grant.valid_until)

    existing = {
        (row.group_id, row.permission_id): row
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
    # bulk_create skips guardian's per-row content-type check, which `permission_ids` already guarantees.
    perm_model.objects.bulk_create(
        [
            perm_model(group_id=group_id, permission_id=permission_id, content_object=obj,
                       reason=reason, valid_until=valid_until)
            for (group_id, permission_id), (reason, valid_until) in desired.items()
            if (group_id, permission_id) not in existing
        ]
    )
