"""Reads of the intake: a person's own drafts (nobody else's, ever), the agencies they may open a
case for, and the communes in force."""

import json

from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from agencies.acting import acting_agency_pick
from agencies.models import Agency, Commune, Province, Role
from config.exceptions import NotFound

from ..models import IntakeDraft

OPENING_ROLES = (Role.RESPONDER, Role.SUPERVISOR)


def draft_values(draft: IntakeDraft) -> dict[str, list[str]]:
    try:
        data = json.loads(draft.data or "{}")
    except ValueError:
        return {}
    return {str(k): [str(v) for v in values] for k, values in data.items() if isinstance(values, list)}


def _plausible_province_code(code: str) -> bool:
    """A province code is ASCII digits ("01", "46"); anything else, from a draft or a query string, finds
    no commune without asking the database (which refuses a NUL byte in text on PostgreSQL)."""
    return code.isascii() and code.isdigit() and len(code) <= (Province._meta.get_field("code").max_length or 0)


def commune_find(*, province_code: str, name: str) -> Commune | None:
    """The commune in force today in the province, by its name (any case: compared in Python, since
    SQLite folds the case of ASCII letters only) or by its code."""
    wanted = " ".join(name.split()).casefold()
    if not wanted or not _plausible_province_code(province_code):
        return None
    today = timezone.localdate()
    in_force = Q(valid_from__lte=today) & (Q(valid_to__isnull=True) | Q(valid_to__gt=today))
    candidates = list(Commune.objects.filter(in_force, province__code=province_code))
    matches = [c for c in candidates if c.name.casefold() == wanted]
    if len(matches) == 1:
        return matches[0]
    return next((c for c in candidates if c.code == name.strip()), None)


def communes_in_force(*, province_code: str) -> list[tuple[str, str]]:
    if not _plausible_province_code(province_code):
        return []
    today = timezone.localdate()
    return list(
        Commune.objects.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today), valid_from__lte=today,
                               province__code=province_code).order_by("name").values_list("code", "name")
    )


def drafts_of(*, user: User, agency_id: int | None):
    """The person's unexpired drafts for the agency they act for: nobody else's, ever."""
    if agency_id is None or not getattr(user, "is_authenticated", False):
        return IntakeDraft.objects.none()
    return IntakeDraft.objects.filter(user=user, agency_id=agency_id, expires_at__gt=timezone.now())


def draft_get(*, user: User, agency_id: int | None, draft_id: int) -> IntakeDraft:
    draft = drafts_of(user=user, agency_id=agency_id).filter(pk=draft_id).first()
    if draft is None:
        raise NotFound
    return draft


def opening_agencies(*, user: User) -> list[Agency]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(Agency.objects.filter(
        active=True, memberships__user=user, memberships__role__in=OPENING_ROLES,
    ).select_related("province").distinct().order_by("name", "pk"))


def acting_opening_agency(*, user: User) -> tuple[list[Agency], Agency | None]:
    agencies = opening_agencies(user=user)
    acting_id = acting_agency_pick(member_agency_ids=[a.pk for a in agencies])
    return agencies, next((a for a in agencies if a.pk == acting_id), None)
