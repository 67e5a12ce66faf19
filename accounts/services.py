"""Writes for signing in: API tokens and the record of web sign-in sessions."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import SESSION_KEY, authenticate
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.contrib.sessions.backends import db as db_sessions
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from knox.models import AuthToken

from audit.context import client_ip
from audit.models import AuditAction
from audit.services import audit_record

from .login_events import USER_AGENT_MAX
from .mfa import mfa_needed_for, verify_code
from .models import SignInSession
from .passwords import initial_password_check
from .selectors import session_store_class


class InvalidCredentials(Exception):
    """The username and password do not match an active account. Deliberately says no more."""


class SecondFactorRequired(Exception):
    """The password matched, but the person's role requires a second factor and none was given."""


class SecondFactorInvalid(Exception):
    """The password matched, but the second-factor code given is wrong."""


def api_token_obtain(*, request, username: str, password: str, otp: str = "") -> tuple[AuthToken, str]:
    """A new API token for this client sign-in: (the stored record, the token to hand to the client once).

    `request` is the Django request: django-axes refuses a locked-out username or address inside
    `authenticate()` and counts each failure. A missing or wrong second factor counts as a failed
    sign-in too. A match sends `user_logged_in`, as the web form's `login()` does, so API sign-ins
    are recorded like web ones.
    An initial password (agencies.InitialPassword) is refused with InitialPasswordExpired or
    PasswordChangeRequired.
    """
    user = authenticate(request=request, username=username, password=password)
    if user is None:
        raise InvalidCredentials
    # An initial password obtains no token: expired, it signs in nowhere; valid, it must first be
    # changed on the web (InitialPasswordExpired / PasswordChangeRequired).
    initial_password_check(user=user, allow_pending=False)
    if mfa_needed_for(user) and not (otp and verify_code(user, otp)):
        user_login_failed.send(
            sender=__name__, credentials={"username": username, "second_factor": True}, request=request
        )
        raise SecondFactorInvalid if otp else SecondFactorRequired
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    instance, token = AuthToken.objects.create(user=user)
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return instance, token


@transaction.atomic(durable=True)
def api_token_revoke(*, user: User, token_key: str) -> bool:
    """End one of the user's own API tokens; False when they have none with that key."""
    if "\x00" in token_key:  # never a key, and PostgreSQL refuses it in text
        return False
    deleted, _by_model = AuthToken.objects.filter(user=user, token_key=token_key).delete()
    if deleted:
        audit_record(
            actor=user, action=AuditAction.REVOKE, target=f"user:{user.pk}",
            details={"api_token": token_key, "by": "owner"},
        )
    return bool(deleted)


@transaction.atomic
def api_tokens_revoke_all(*, user: User, reason: str) -> int:
    """End every API token of the user (password changed, account deactivated, a role taken away)."""
    deleted, _by_model = AuthToken.objects.filter(user=user).delete()
    if deleted:
        audit_record(
            actor=None, action=AuditAction.REVOKE, target=f"user:{user.pk}",
            details={"api_tokens_revoked": deleted, "because": reason},
        )
    return deleted


# --- Web sign-in sessions ------------------------------------------------------------------------------

SIGNIN_ID = "_hopluc_signin_id"
SIGNIN_KEY = "_hopluc_signin_key"


def signin_session_record(*, request, user: User) -> None:
    """Remember the session a web sign-in just started, for its owner's sessions page."""
    session = request.session
    if session.session_key is None:
        session.save()
    # One record per session key: signing in again on the same session (as a second sign-in whose key
    # another record was made to follow can) takes that record over instead of failing on the key.
    record, _created = SignInSession.objects.update_or_create(
        session_key=session.session_key,
        defaults={"user": user, "started_at": timezone.now(), "ip": client_ip(request),
                  "user_agent": (request.META.get("HTTP_USER_AGENT") or "")[:USER_AGENT_MAX]},
    )
    session[SIGNIN_ID] = record.pk
    session[SIGNIN_KEY] = record.session_key


def signin_session_follow_key(*, request) -> None:
    """Keep the record in step when the session key was cycled (password change)."""
    session = request.session
    if session.session_key is None:  # no session at all: nothing read, nothing written
        return
    record_id = session.get(SIGNIN_ID)
    if record_id is None or session.get(SIGNIN_KEY) == session.session_key:
        return
    if SignInSession.objects.filter(pk=record_id).update(session_key=session.session_key):
        session[SIGNIN_KEY] = session.session_key
        return
    # The record is gone. Between the key's change (the old session row deleted, the new one written) and
    # this follow, the hourly clean-up (sessions_ended_delete) may have taken it for the record of
    # an ended session: record this live session again so that its owner can still see and end it.
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and session.get(SESSION_KEY) == user._meta.pk.value_to_string(user):
        signin_session_record(request=request, user=user)


def signin_session_forget(*, session_key: str | None) -> None:
    if session_key:
        SignInSession.objects.filter(session_key=session_key).delete()


def sessions_ended_delete() -> int:
    """Delete the sessions past their expiry (the session store's own clear_expired), then the sign-in
    records (address and browser) of sessions that have ended: no live session behind them any more, or
    signed in SESSION_ABSOLUTE_HOURS ago or more, after which the session no longer signs anyone in
    (accounts.middleware.SessionLifetimeMiddleware). Returns how many records were deleted.

    Beat runs it hourly (accounts.tasks.delete_ended_sessions): without it these rows were only filtered
    out when read, and the records dropped only if their owner happened to look at their sessions."""
    store_class = session_store_class()
    store_class.clear_expired()
    now = timezone.now()
    past_lifetime = Q(started_at__lte=now - timedelta(hours=settings.SESSION_ABSOLUTE_HOURS))
    if issubclass(store_class, db_sessions.SessionStore):  # the database engines: one statement
        live = store_class.get_model_class().objects.filter(session_key=OuterRef("session_key"), expire_date__gt=now)
        ended = SignInSession.objects.filter(past_lifetime | ~Exists(live))
    else:
        ended = SignInSession.objects.filter(past_lifetime | Q(pk__in=[
            record.pk for record in SignInSession.objects.only("session_key")
            if not store_class().exists(record.session_key)
        ]))
    deleted, _by_model = ended.delete()
    return deleted


@transaction.atomic(durable=True)
def signin_session_end(*, user: User, record_id: int) -> bool:
    """End one of the user's own web sessions (signing that browser out); False when not theirs."""
    record = SignInSession.objects.filter(user=user, pk=record_id).first()
    if record is None:
        return False
    session_store_class()().delete(record.session_key)
    record.delete()
    audit_record(
        actor=user, action=AuditAction.REVOKE, target=f"user:{user.pk}",
        details={"session_ended": record_id, "by": "owner"},
    )
    return True
