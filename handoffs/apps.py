from django.apps import AppConfig


class HandoffsConfig(AppConfig):
    """Handoffs: a case sent from one agency to another (referral or transfer), its answer and its
    response deadline. The model, its choices and HANDOFF_MACHINE are in handoffs.models (table
    cases_handoff, the name it had when the model lived in cases)."""

    name = "handoffs"
