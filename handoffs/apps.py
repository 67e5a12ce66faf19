from django.apps import AppConfig


class HandoffsConfig(AppConfig):
    """Handoffs: a case sent from one agency to another (referral or transfer), its answer and its
    response deadline. The Handoff model itself is cases.models.Handoff (see the README's code map)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "handoffs"
