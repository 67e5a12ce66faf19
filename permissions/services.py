"""Applying derived grants as access rows (cases.models.CaseAccessRow), the one representation of
access since issue 15: guardian's object-permission rows are no longer written."""

import datetime
from collections.abc import Mapping

from django.db import models

from .access import grant_pieces
from .policy import AgencyGrants

# (agency id, user id, valid_from, valid_until, rights, categories)
AccessKey = tuple[int | None, int | None, datetime.datetime | None, datetime.datetime | None, int, int]


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
