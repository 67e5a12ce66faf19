"""The initial password an agency admin hands out: it expires, and until it is changed its holder
reaches nothing but the password change form.

The rule is written once here and used by the sign-in form, the API token endpoint, the gate
middleware and the password change view. What a session needs to know is decided once at sign-in
and kept in the session (the moment the initial password expires), so the gate costs no query.
"""

import datetime

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import InitialPassword
from audit.models import AuditAction
from audit.services import audit_record

# Session key: when the signed-in person's initial password expires (epoch seconds); absent when
# they have changed it.
SESSION_PASSWORD_CHANGE_DUE = "password_change_due"  # noqa: S105 (a session key, not a password)

EXPIRED_MESSAGE = _("Your one-time password has expired. Ask your agency admin to issue a new one.")
CHANGE_REQUIRED_MESSAGE = _(
    "You signed in with the one-time password your agency admin gave you. Choose your own password "
    "before doing anything else."
)


class InitialPasswordExpired(Exception):
    """The password is an initial one whose time is up: it signs in nowhere."""


class PasswordChangeRequired(Exception):
    """The password is an initial one, still valid, that must be changed before anything else."""


def initial_password_expires_at(*, user: User) -> datetime.datetime | None:
    """When the user's initial password expires, or None when they chose their own password."""
    return InitialPassword.objects.filter(user=user).values_list("expires_at", flat=True).first()


def initial_password_check(*, user: User, allow_pending: bool) -> datetime.datetime | None:
    """Raise InitialPasswordExpired for an expired initial password; PasswordChangeRequired for a
    valid one unless `allow_pending` (the web sign-in lets it through, to the change form).
    Returns the expiry of a pending initial password, else None."""
    expires_at = initial_password_expires_at(user=user)
    if expires_at is None:
        return None
    if expires_at <= timezone.now():
        raise InitialPasswordExpired
    if not allow_pending:
        raise PasswordChangeRequired
    return expires_at


@transaction.atomic(durable=True)
def password_changed(*, user: User) -> None:
    """Record that the user chose a new password: an initial password stops being one."""
    cleared, _detail = InitialPassword.objects.filter(user=user).delete()
    audit_record(actor=user, action=AuditAction.CHANGE, target=f"user:{user.pk}",
                 details={"password": "changed", "initial_password_replaced": bool(cleared)})


@receiver(user_logged_in, dispatch_uid="accounts.passwords.remember_initial_password")
def remember_initial_password(sender, request, user: User, **kwargs) -> None:
    # Only a session sign-in (login() put the user in the session); the token API sends the same
    # signal without one.
    if request is None or not hasattr(request, "session") or request.session.get(SESSION_KEY) != str(user.pk):
        return
    expires_at = initial_password_expires_at(user=user)
    if expires_at is None:
        request.session.pop(SESSION_PASSWORD_CHANGE_DUE, None)
    else:
        request.session[SESSION_PASSWORD_CHANGE_DUE] = expires_at.timestamp()
