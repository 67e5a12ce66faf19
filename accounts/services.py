"""Writes for signing in."""

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from rest_framework.authtoken.models import Token

from .passwords import initial_password_check


class InvalidCredentials(Exception):
    """The username and password do not match an active account. Deliberately says no more."""


def auth_token_obtain(*, request, username: str, password: str) -> Token:
    """Return the user's API token, creating it on first use.

    `authenticate()` sends `user_login_failed` on a mismatch; a match sends `user_logged_in` here,
    as the web form's `login()` does, so API sign-ins are recorded like web ones. An initial password
    (agencies.InitialPassword) is refused with InitialPasswordExpired or PasswordChangeRequired.
    """
    user = authenticate(request=request, username=username, password=password)
    if user is None:
        raise InvalidCredentials
    # An initial password obtains no token: expired, it signs in nowhere; valid, it must first be
    # changed on the web (InitialPasswordExpired / PasswordChangeRequired).
    initial_password_check(user=user, allow_pending=False)
    token, _created = Token.objects.get_or_create(user=user)
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return token
