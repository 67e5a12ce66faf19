"""Reads of the breach register: who may read which breaches."""

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from agencies.models import Agency
from agencies.selectors import supervised_agencies
from config.exceptions import NotFound, row_id_or_not_found

from ..models import Breach


def is_breach_admin(user: User | AnonymousUser) -> bool:
    """A system administrator: an active superuser."""
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def breach_list_for_user(*, user: User | AnonymousUser) -> QuerySet[Breach]:
    """The breaches the user may read, newest first; PermissionDenied for anyone who may read none."""
    qs = Breach.objects.select_related("recorded_by").prefetch_related("affected_agencies")
    if is_breach_admin(user):
        return qs
    agency_ids = [agency.pk for agency in supervised_agencies(user=user)] if isinstance(user, User) else []
    if not agency_ids:
        raise PermissionDenied
    return qs.filter(affected_agencies__in=agency_ids).distinct()


def breach_get_for_user(*, user: User | AnonymousUser, breach_id: int) -> Breach:
    """One breach the user may read: NotFound for one of no agency they supervise (or none at all),
    PermissionDenied for anyone who may read no breach."""
    try:
        return breach_list_for_user(user=user).get(pk=row_id_or_not_found(breach_id))
    except Breach.DoesNotExist:
        raise NotFound from None


def breach_events_linked(*, agency: Agency) -> dict[int, list[int]]:
    """For each audit event seq cited by a breach affecting the agency, those breaches' ids (for the
    unusual-access report)."""
    linked: dict[int, list[int]] = {}
    for breach_id, seqs in Breach.objects.filter(affected_agencies=agency).values_list("pk", "access_event_seqs"):
        for seq in seqs or ():
            linked.setdefault(seq, []).append(breach_id)
    return linked
