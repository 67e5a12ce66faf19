from django.apps import AppConfig


class TakedownsConfig(AppConfig):
    """Takedown requests to platforms and their outcomes. The model and its choices are in
    takedowns.models (table cases_takedownrequest, the name it had when the model lived in cases)."""

    name = "takedowns"

    def ready(self) -> None:
        # Registers this app's timeline writers and renderers with cases (cases.events, cases.timeline).
        from . import events  # noqa: F401
