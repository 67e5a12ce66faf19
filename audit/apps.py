from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
        from django.db.models.signals import post_migrate

        from . import receivers
        from .context import connect_task_signals
        from .database_roles import app_role_after_migrate

        user_logged_in.connect(receivers.on_user_logged_in, dispatch_uid="audit.user_logged_in")
        user_logged_out.connect(receivers.on_user_logged_out, dispatch_uid="audit.user_logged_out")
        user_login_failed.connect(receivers.on_user_login_failed, dispatch_uid="audit.user_login_failed")
        # Every Celery task runs under a task audit context (audit.context).
        connect_task_signals()
        # Once per migrate run (sender: this app), after every app's migrations.
        post_migrate.connect(app_role_after_migrate, sender=self, dispatch_uid="audit.app_role_after_migrate")
