"""Reads about the signed-in person: which roles they hold, where they land, what /api/me/ shows."""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.backends import db as db_sessions
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from knox.models import AuthToken

from agencies.models import AnalystScope, Membership, Role
from agencies.selectors import membership_list_for_user, user_primary_role

from .models import SignInSession

ANALYST = "analyst"

# Home page of each role, in the order they are offered to someone holding several.
HOME_BY_ROLE = {
    Role.RESPONDER.value: "accounts:responder_home",
    Role.SUPERVISOR.value: "supervision:register",
    Role.AGENCY_ADMIN.value: "accounts:agency_admin_home",
    ANALYST: "accounts:analyst_home",
}


def analyst_scope_list_for_user(*, user: User) -> QuerySet[AnalystScope]:
    return AnalystScope.objects.filter(user=user).select_related("province").order_by("province__code")


def user_roles(*, user: User | AnonymousUser, memberships: list[Membership] | None = None) -> set[str]:
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


def user_home_url_name(*, user: User) -> str | None:
    """The URL name a user lands on after sign-in; None when they hold no role anywhere."""
    role = user_primary_role(user=user)
    if role is None:
        return "admin:index" if user.is_staff else None
    return HOME_BY_ROLE[role]


def account_profile(*, user: User) -> dict:
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



def session_store_class():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _session_data(session_keys: list[str]) -> dict[str, dict]:
    """The data of those sessions that still exist and have not expired, by key."""
    store_class = session_store_class()
    if issubclass(store_class, db_sessions.SessionStore):  # the database engines: one query for all
        rows = store_class.get_model_class().objects.filter(
            session_key__in=session_keys, expire_date__gt=timezone.now()
        )
        return {row.session_key: store_class().decode(row.session_data) for row in rows}
    return {key: store_class(session_key=key).load() for key in session_keys}


def _signs_in(data: dict, user: User) -> bool:
    # The session hash changes with the password: Django ends such a session at its next request.
    return data.get(SESSION_KEY) == user._meta.pk.value_to_string(user) and constant_time_compare(
        data.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
    )


def signin_session_list_for(*, user: User) -> list[SignInSession]:
    """The user's web sessions that still sign them in (not ended, expired or cut off by a password
    change), newest first."""
    records = list(SignInSession.objects.filter(user=user).order_by("-started_at", "-pk"))
    data = _session_data([record.session_key for record in records])
    return [record for record in records if _signs_in(data.get(record.session_key, {}), user)]


def api_token_list_for(*, user: User) -> QuerySet[AuthToken]:
    """The user's API tokens that have not expired, newest first. Only digests are stored: the
    token itself is never shown again after sign-in; `token_key` is its first 15 characters."""
    return AuthToken.objects.filter(user=user, expiry__gt=timezone.now()).order_by("-created")
