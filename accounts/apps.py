from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from agencies.demo import demo_step_register

        # Connects the sign-in signal receivers (records, initial password, sign-in time, token revocation).
        from . import login_events, passwords, receivers, sessions  # noqa: F401
        from .mfa import seed_demo_second_factor_step

        # The demo accounts that need a second factor get the published demo secret (not in production).
        demo_step_register(seed_demo_second_factor_step)
