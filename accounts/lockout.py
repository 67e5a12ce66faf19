"""Sign-in lockout: django-axes counts failed sign-ins per username and per client address.

After LOGIN_LOCKOUT_USERNAME_FAILURES failures for one username, or LOGIN_LOCKOUT_IP_FAILURES from one
address, within LOGIN_LOCKOUT_MINUTES of each other, every sign-in for that username or from that
address is refused until LOGIN_LOCKOUT_MINUTES after the last failure, even with the right password.
The web form and the API token endpoint count together. An agency admin lifts a lockout of their
staff from the staff page, the system administrator from Django admin; both are audited.
"""

from datetime import datetime, timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max, Sum
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import audit_record


def cool_off(request=None) -> timedelta:
    return timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def failure_limit(request=None, credentials=None) -> int:
    return settings.LOGIN_LOCKOUT_USERNAME_FAILURES


def _total(attempts) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler with one limit per parameter: per username and per address."""

    def get_failures(self, request, credentials=None) -> int:
        # In the order of AXES_LOCKOUT_PARAMETERS. axes locks when the result reaches the username
        # limit U; the address count n is scaled by U/I first. floor(n*U/I) >= U exactly when n >= I,
        # so each parameter locks at its own limit.
        by_username, by_address = (_total(attempts) for attempts in self.get_user_attempts(request, credentials))
        username_limit, address_limit = settings.LOGIN_LOCKOUT_USERNAME_FAILURES, settings.LOGIN_LOCKOUT_IP_FAILURES
        return max(by_username, by_address * username_limit // address_limit)

    def user_logged_in(self, sender, request, user: User, **kwargs) -> None:
        super().user_logged_in(sender, request, user, **kwargs)
        # A person who mistyped and then got in starts afresh from where they are; failures for their
        # username from other addresses, and this address's failures for other usernames, still count.
        AccessAttempt.objects.filter(username=user.get_username(), ip_address=request.axes_ip_address).delete()


def lockout_message() -> str:
    return _(
        "Too many failed sign-in attempts. For your safety, signing in is paused for %(minutes)s minutes "
        "after the last attempt. Your agency admin can lift the pause sooner."
    ) % {"minutes": settings.LOGIN_LOCKOUT_MINUTES}


def lockout_response(request, original_response=None, credentials=None):
    """What a refused sign-in gets during a lockout: 429 with Retry-After, JSON on the API."""
    retry_after = str(settings.LOGIN_LOCKOUT_MINUTES * 60)
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": lockout_message(), "code": "locked_out"}, status=429)
    else:
        response = render(request, "accounts/locked_out.html", {"message": lockout_message()}, status=429)
    response["Retry-After"] = retry_after
    return response


def lockouts_for_usernames(*, usernames) -> dict[str, datetime]:
    """The usernames (of those given) locked out by their own failures now, with when the pause ends."""
    threshold = timezone.now() - cool_off()
    rows = (
        AccessAttempt.objects.filter(username__in=list(usernames), attempt_time__gte=threshold)
        .values("username")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    )
    limit = settings.LOGIN_LOCKOUT_USERNAME_FAILURES
    return {row["username"]: row["last"] + cool_off() for row in rows if row["failures"] >= limit}


def lockout_attempts_expired_delete() -> int:
    """Delete the failed sign-ins (the username typed, the client address) whose last failure is older
    than the cool-off (AXES_COOLOFF_TIME, read through axes: LOGIN_LOCKOUT_MINUTES). Returns how many.

    axes deletes these itself only at a later sign-in, failed or not, so the last ones stayed for good;
    beat runs this hourly (accounts.tasks.delete_ended_sessions). It lifts no pause early: a lockout is
    counted (LockoutHandler, through axes) and shown (lockouts_for_usernames) from the attempts whose
    last failure is within the cool-off only, and an attempt's time is that of its last failure."""
    cool_off_time = get_cool_off()
    if cool_off_time is None:  # no cool-off configured: a lockout lasts until lifted, every attempt counts
        return 0
    threshold = timezone.now() - cool_off_time
    deleted, _by_model = AccessAttempt.objects.filter(attempt_time__lt=threshold).delete()
    return deleted


@transaction.atomic(durable=True)
def lockout_lift(
    *, actor: User, user: User | None=None, username: str = "", ip_address: str = "", agency_id: int | None = None
) -> int:
    """Clear the failed sign-ins of a person (every address) or of an address (every username), audited.

    Returns how many attempt records were cleared."""
    if user is not None:
        username = user.get_username()
    if bool(username) == bool(ip_address):
        raise ValueError("lift a lockout for one username or one address")
    attempts = AccessAttempt.objects.filter(username=username) if username else AccessAttempt.objects.filter(
        ip_address=ip_address
    )
    failures = _total(attempts)
    cleared, _by_model = attempts.delete()
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        agency_id=agency_id,
        target=f"user:{user.pk}" if user is not None else (f"username:{username}" if username else f"ip:{ip_address}"),
        details={"lockout_lifted": True, "failures_cleared": failures, "records_cleared": cleared},
    )
    return cleared
