from django.apps import AppConfig


class TakedownsConfig(AppConfig):
    """Takedown requests to platforms and their outcomes. The TakedownRequest model itself is
    cases.models.TakedownRequest (see the README's code map)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "takedowns"
