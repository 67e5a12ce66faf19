"""Sign-in events: one place where successful, failed and ended sign-ins become records.

Django's `user_logged_in`, `user_login_failed` and `user_logged_out` signals fire from the standard
views and from `authenticate()`, so the web form and the API token endpoint both land here. Each is
turned into a `LoginEvent` and sent on `login_event`; the audit trail connects to that signal rather
than to Django's three, so it gets one shape with the request details already extracted and never
sees the submitted password.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import Signal, receiver
from django.utils import timezone

logger = logging.getLogger("hopluc.security")

# Sent with `event=LoginEvent`. Receivers must not raise: a failing recorder would otherwise turn a
# sign-in into a server error.
login_event = Signal()

USER_AGENT_MAX = 300


@dataclass(frozen=True)
class LoginEvent:
    kind: str  # "login", "login_failed" or "logout"
    username: str
    user_id: int | None
    ip_address: str | None
    user_agent: str
    path: str
    at: datetime


def _request_details(request) -> tuple[str | None, str, str]:
    if request is None:
        return None, "", ""
    meta = getattr(request, "META", {})
    # Only REMOTE_ADDR: X-Forwarded-For is set by the client unless a trusted proxy rewrites it,
    # and a forged address in a security record is worse than none.
    ip = meta.get("REMOTE_ADDR") or None
    user_agent = (meta.get("HTTP_USER_AGENT") or "")[:USER_AGENT_MAX]
    path = getattr(request, "path", "") or ""
    return ip, user_agent, path


def login_event_record(*, kind: str, request, username: str, user: User | None = None) -> LoginEvent:
    ip, user_agent, path = _request_details(request)
    event = LoginEvent(
        kind=kind,
        username=username,
        user_id=getattr(user, "pk", None),
        ip_address=ip,
        user_agent=user_agent,
        path=path,
        at=timezone.now(),
    )
    logger.info("%s username=%r user_id=%s ip=%s path=%s", kind, username, event.user_id, ip, path)
    login_event.send(sender=LoginEvent, event=event)
    return event


@receiver(user_logged_in, dispatch_uid="accounts.login_events.logged_in")
def _on_logged_in(sender, request, user: User, **kwargs) -> None:
    login_event_record(kind="login", request=request, username=user.get_username(), user=user)


@receiver(user_logged_out, dispatch_uid="accounts.login_events.logged_out")
def _on_logged_out(sender, request, user: User | None, **kwargs) -> None:
    if user is None:
        return
    login_event_record(kind="logout", request=request, username=user.get_username(), user=user)


@receiver(user_login_failed, dispatch_uid="accounts.login_events.login_failed")
def _on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django already masks the password in `credentials`; only the username is kept.
    username = str(credentials.get("username", ""))[:150]
    login_event_record(kind="login_failed", request=request, username=username)
