from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from . import receivers

        user_logged_in.connect(receivers.on_user_logged_in, dispatch_uid="audit.user_logged_in")
        user_logged_out.connect(receivers.on_user_logged_out, dispatch_uid="audit.user_logged_out")
        user_login_failed.connect(receivers.on_user_login_failed, dispatch_uid="audit.user_login_failed")
