from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        # Connects the sign-in signal receivers.
        from . import login_events, receivers  # noqa: F401
