from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    """Supervisors' accountability: the handoff register, reviews, access review, the dashboard."""

    name = "supervision"

    def ready(self):
        from . import receivers  # noqa: F401 - connects the sign-in hook
