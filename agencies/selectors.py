"""Reads about agencies and the people in them."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Exists, OuterRef, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import AccountRelease, Agency, AnalystScope, Membership, Role

# The break-glass right is the Django permission permissions.break_glass (permissions.breakglass). Named by
# strings here: agencies imports no domain app.
BREAK_GLASS_APP_LABEL = "permissions"
BREAK_GLASS_CODENAME = "break_glass"


def membership_list_for_user(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, agency__active=True).select_related("agency", "agency__province")


def user_agencies(*, user: User, roles: tuple[str, ...] | None = None) -> QuerySet[Agency]:
    # One filter() call: the user and the role are conditions on the same membership. Two calls would
    # join memberships twice and accept any member's role (an agency admin of an agency with responders).
    membership: dict[str, object] = {"memberships__user": user}
    if roles:
        membership["memberships__role__in"] = roles
    return Agency.objects.filter(active=True, **membership).distinct()


def user_primary_role(*, user: User | AnonymousUser) -> str | None:
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


def active_non_analyst(*, user: User | AnonymousUser) -> bool:
    """Signed in, active, and no analyst: analysts never see anything about cases, whatever
    memberships they might hold."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return not AnalystScope.objects.filter(user=user).exists()


def supervised_agencies(*, user: User) -> list[Agency]:
    """Active agencies where the user is a supervisor; none for analysts, who never see a case."""
    if not active_non_analyst(user=user):
        return []
    return list(
        Agency.objects.filter(active=True, memberships__user=user, memberships__role=Role.SUPERVISOR)
        .select_related("province").order_by("name", "id")
    )


def user_is_agency_admin(*, user: User) -> bool:
    return Membership.objects.filter(user=user, role=Role.AGENCY_ADMIN, agency__active=True).exists()


def agency_for_admin(*, user: User, agency_id: int) -> Agency | None:
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


def account_attachable(*, user: User, agency: Agency) -> bool:
    """Whether an agency admin of `agency` may attach this account: an active, ordinary account
    (never a superuser or Django staff account) that works nowhere else (no membership in another
    agency, no analyst scope) unless a system administrator released it to this agency."""
    if not user.is_active or user.is_superuser or user.is_staff:
        return False
    works_elsewhere = (
        Membership.objects.filter(user=user).exclude(agency=agency).exists()
        or AnalystScope.objects.filter(user=user).exists()
    )
    return not works_elsewhere or AccountRelease.objects.filter(user=user, agency=agency).exists()


def break_glass_holders(*, user_ids) -> set[int]:
    """Which of these users hold the break-glass right granted to them in person (the staff page's
    checkbox); rights held through a group are the system administrator's to manage."""
    return set(
        get_user_model().objects.filter(
            pk__in=list(user_ids), user_permissions__content_type__app_label=BREAK_GLASS_APP_LABEL,
            user_permissions__codename=BREAK_GLASS_CODENAME,
        ).values_list("pk", flat=True)
    )
