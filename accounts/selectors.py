"""Reads about the signed-in person: which roles they hold, where they land, what /api/me/ shows."""

from django.db.models import QuerySet

from agencies.models import AnalystScope, Membership, Role
from agencies.selectors import membership_list_for_user, user_primary_role

ANALYST = "analyst"

# Home page of each role, in the order they are offered to someone holding several.
HOME_BY_ROLE = {
    Role.RESPONDER.value: "accounts:responder_home",
    Role.SUPERVISOR.value: "accounts:supervisor_home",
    Role.AGENCY_ADMIN.value: "accounts:agency_admin_home",
    ANALYST: "accounts:analyst_home",
}


def analyst_scope_list_for_user(*, user) -> QuerySet[AnalystScope]:
    return AnalystScope.objects.filter(user=user).select_related("province").order_by("province__code")


def user_roles(*, user, memberships: list[Membership] | None = None) -> set[str]:
    """Every role the user holds in an active agency, plus "analyst" when they have a reporting scope.

    Pass `memberships` (from `membership_list_for_user`) when the caller has them already.
    """
    if not user.is_authenticated:
        return set()
    if memberships is None:
        memberships = list(membership_list_for_user(user=user))
    roles = {m.role for m in memberships}
    if AnalystScope.objects.filter(user=user).exists():
        roles.add(ANALYST)
    return roles


def user_home_url_name(*, user) -> str | None:
    """The URL name a user lands on after sign-in; None when they hold no role anywhere."""
    role = user_primary_role(user=user)
    if role is None:
        return "admin:index" if user.is_staff else None
    return HOME_BY_ROLE[role]


def account_profile(*, user) -> dict:
    """What the API tells a user about themselves: who they are and where they work, no case data."""
    return {
        "username": user.get_username(),
        "full_name": user.get_full_name(),
        "memberships": [
            {
                "agency_id": m.agency_id,
                "agency_name": m.agency.name,
                "sector": m.agency.sector,
                "province_code": m.agency.province.code,
                "role": m.role,
            }
            for m in membership_list_for_user(user=user)
        ],
        "analyst_scopes": [
            {
                "national": scope.province_id is None,
                "province_code": scope.province.code if scope.province_id else None,
                "province_name": scope.province.name if scope.province_id else None,
            }
            for scope in analyst_scope_list_for_user(user=user)
        ],
    }


def signin_session_list_for(*, user) -> list:
    """The user's web sessions that are still alive, newest first."""
    from .models import SignInSession
    from .services import session_alive

    records = SignInSession.objects.filter(user=user).order_by("-started_at", "-pk")
    return [record for record in records if session_alive(user=user, session_key=record.session_key)]


def api_token_list_for(*, user):
    """The user's API tokens that have not expired, newest first. Only digests are stored: the
    token itself is never shown again after sign-in; `token_key` is its first 15 characters."""
    from django.utils import timezone
    from knox.models import AuthToken

    return AuthToken.objects.filter(user=user, expiry__gt=timezone.now()).order_by("-created")
