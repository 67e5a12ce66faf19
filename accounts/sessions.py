"""The absolute session lifetime: a session ends SESSION_ABSOLUTE_HOURS after sign-in, however
active, on top of the idle timeout (SESSION_IDLE_MINUTES, Django's renewed cookie age)."""

import time

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

# Session key: when the person signed in (epoch seconds).
SESSION_SIGNED_IN_AT = "signed_in_at"


@receiver(user_logged_in, dispatch_uid="accounts.sessions.remember_sign_in_time")
def remember_sign_in_time(sender, request, user: User, **kwargs) -> None:
    if request is None or not hasattr(request, "session") or request.session.get(SESSION_KEY) != str(user.pk):
        return
    request.session[SESSION_SIGNED_IN_AT] = int(time.time())
