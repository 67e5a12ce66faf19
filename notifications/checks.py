"""Settings mistakes that would break a guarantee, reported by `manage.py check` and at start-up."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .calendar import time_limit_overrides
from .delivery import lateness_bounds

# The promise of the README's reliability section: the first attempt after any fault is this soon.
LATENESS_BOUND_SECONDS = 120


@checks.register(checks.Tags.compatibility)
def notification_settings_check(app_configs, **kwargs):
    errors = []
    if settings.NOTIFICATIONS_SEND_LEASE_SECONDS <= settings.NOTIFICATIONS_DELIVERY_TIME_LIMIT:
        errors.append(checks.Error(
            "NOTIFICATIONS_SEND_LEASE_SECONDS must exceed NOTIFICATIONS_DELIVERY_TIME_LIMIT, or a slow delivery "
            "could be handed to a second worker and sent twice.",
            id="notifications.E001",
        ))
    try:
        time_limit_overrides()
    except ImproperlyConfigured as exc:
        errors.append(checks.Error(str(exc), id="notifications.E002"))
    if settings.NOTIFICATIONS_MAX_ATTEMPTS < 1:
        errors.append(checks.Error("NOTIFICATIONS_MAX_ATTEMPTS must be at least 1.", id="notifications.E003"))
    slowest_send = max(settings.EMAIL_TIMEOUT, settings.SMS_GATEWAY_TIMEOUT)
    if slowest_send >= settings.NOTIFICATIONS_DELIVERY_SOFT_TIME_LIMIT:
        errors.append(checks.Error(
            "EMAIL_TIMEOUT and SMS_GATEWAY_TIMEOUT must be shorter than the delivery's soft time limit "
            "(80 % of NOTIFICATIONS_DELIVERY_TIME_LIMIT), or a slow server gets the task killed instead of retried.",
            id="notifications.E004",
        ))
    late = {fault: bound for fault, bound in lateness_bounds().items() if bound > LATENESS_BOUND_SECONDS}
    if late:
        errors.append(checks.Warning(
            f"With these settings a notice may arrive more than {LATENESS_BOUND_SECONDS} s after a fault ends: "
            + ", ".join(f"{fault} {bound:g} s" for fault, bound in sorted(late.items()))
            + " (README, Reliability).",
            id="notifications.W001",
        ))
    return errors
