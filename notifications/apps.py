from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_time_limits(sender, app_config=None, using="default", apps=None, plan=None, **kwargs):
    from .loaders import time_limit_create_missing

    if apps is None:  # flush sends the signal without the migration state
        from .models import LegalTimeLimit as model
    else:
        try:
            model = apps.get_model("notifications", "LegalTimeLimit")
        except LookupError:
            return  # migrated back below the table
    time_limit_create_missing(model=model, using=using)


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Deadlines and notifications")

    def ready(self):
        from agencies.demo import demo_step_register

        from . import checks, signals  # noqa: F401 - registers the system checks and the holiday-removal signals
        from .demo import seed_demo_holidays_step

        # First: the demo's deadlines are counted on a calendar with its public holidays.
        demo_step_register(seed_demo_holidays_step, first=True)

        # After migrate and after flush (which sends post_migrate too), like content types.
        post_migrate.connect(_ensure_time_limits, sender=self, dispatch_uid="notifications_time_limits")
        # The header's count read early in a request is kept only while nothing names its table since
        # (selectors.notification_unread_count).
        from .selectors import notification_table_watch

        connection_created.connect(notification_table_watch, dispatch_uid="notifications_table_watch")
