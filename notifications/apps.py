from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = _("Deadlines and notifications")

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
