from django.apps import AppConfig


class TakedownsConfig(AppConfig):
    """Takedown requests to platforms and their outcomes. The model and its choices are in
    takedowns.models (table cases_takedownrequest, the name it had when the model lived in cases)."""

    name = "takedowns"

    def ready(self) -> None:
        # The case page's takedown block reads nothing for a case without requests (cases.selectors).
        from cases.selectors import case_page_probe_register

        # Registers this app's timeline writers and renderers with cases (cases.events, cases.timeline).
        from . import events  # noqa: F401
        from .models import TAKEDOWN_PANEL, TakedownRequest

        case_page_probe_register(TAKEDOWN_PANEL, lambda case_id: TakedownRequest.objects.filter(case_id=case_id))
