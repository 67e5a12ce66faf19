"""Writes for signing in."""

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from rest_framework.authtoken.models import Token


class InvalidCredentials(Exception):
    """The username and password do not match an active account. Deliberately says no more."""


def auth_token_obtain(*, request, username: str, password: str) -> Token:
    """Return the user's API token, creating it on first use.

    `authenticate()` sends `user_login_failed` on a mismatch; a match sends `user_logged_in` here,
    as the web form's `login()` does, so API sign-ins are recorded like web ones.
    """
    user = authenticate(request=request, username=username, password=password)
    if user is None:
        raise InvalidCredentials
    token, _created = Token.objects.get_or_create(user=user)
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return token
