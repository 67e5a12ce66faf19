"""Settings mistakes that would break a guarantee, reported by `manage.py check` and at start-up."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .calendar import time_limit_overrides

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
    caps = (settings.NOTIFICATIONS_RETRY_MAX_SECONDS, settings.NOTIFICATIONS_URGENT_RETRY_MAX_SECONDS)
    if max(caps) > LATENESS_BOUND_SECONDS:
        errors.append(checks.Warning(
            f"A retry cap above {LATENESS_BOUND_SECONDS} s lets a notice arrive later than that after an SMTP or "
            "SMS outage ends.",
            id="notifications.W001",
        ))
    return errors
