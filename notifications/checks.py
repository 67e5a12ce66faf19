"""Settings mistakes that would break a guarantee, reported by `manage.py check` and at start-up."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .calendar import time_limit_overrides


@checks.register(checks.Tags.compatibility)
def notification_settings_check(app_configs, **kwargs):
    errors = []
    if settings.NOTIFICATIONS_SEND_LEASE_SECONDS <= settings.CELERY_TASK_TIME_LIMIT:
        errors.append(checks.Error(
            "NOTIFICATIONS_SEND_LEASE_SECONDS must exceed CELERY_TASK_TIME_LIMIT, or a slow delivery could "
            "be handed to a second worker and sent twice.",
            id="notifications.E001",
        ))
    try:
        time_limit_overrides()
    except ImproperlyConfigured as exc:
        errors.append(checks.Error(str(exc), id="notifications.E002"))
    if settings.NOTIFICATIONS_MAX_ATTEMPTS < 1:
        errors.append(checks.Error("NOTIFICATIONS_MAX_ATTEMPTS must be at least 1.", id="notifications.E003"))
    return errors
