"""Reads about agencies and the people in them."""

from django.db.models import Exists, OuterRef, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Agency, AnalystScope, Membership, Role


def membership_list_for_user(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, agency__active=True).select_related("agency", "agency__province")


def user_agencies(*, user, roles: tuple[str, ...] | None = None) -> QuerySet[Agency]:
    qs = Agency.objects.filter(memberships__user=user, active=True)
    if roles:
        qs = qs.filter(memberships__role__in=roles)
    return qs.distinct()


def user_primary_role(*, user) -> str | None:
    """The role that decides a user's home page: analyst, supervisor, agency admin, responder."""
    if not user.is_authenticated:
        return None
    if AnalystScope.objects.filter(user=user).exists():
        return "analyst"
    roles = set(Membership.objects.filter(user=user, agency__active=True).values_list("role", flat=True))
    for role in (Role.SUPERVISOR, Role.RESPONDER, Role.AGENCY_ADMIN):
        if role in roles:
            return role
    return None


def user_is_agency_admin(*, user) -> bool:
    return Membership.objects.filter(user=user, role=Role.AGENCY_ADMIN, agency__active=True).exists()


def agency_for_admin(*, user, agency_id: int) -> Agency | None:
    """The agency, if the user is one of its agency admins; None for any other agency."""
    return (
        Agency.objects.filter(
            pk=agency_id, active=True, memberships__user=user, memberships__role=Role.AGENCY_ADMIN
        )
        .select_related("province")
        .first()
    )


def agency_staff_list(*, agency: Agency) -> QuerySet[Membership]:
    """The agency's people, each with `has_second_factor` (a confirmed authenticator), in one query."""
    return (
        Membership.objects.filter(agency=agency)
        .select_related("user")
        .annotate(has_second_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("user_id"), confirmed=True)))
        .order_by("user__username")
    )
