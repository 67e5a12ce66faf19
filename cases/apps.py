from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"

    def ready(self):
        # seed_demo runs the agencies' demo steps and then the registered ones; agencies imports no cases code.
        from agencies.demo import demo_step_register

        from .demo import seed_demo_cases_step

        demo_step_register(seed_demo_cases_step)

        # Unwrapped case keys live for one request or task at most (encryption.crypto).
        from celery.signals import task_postrun, task_prerun
        from django.core.signals import request_finished, request_started

        from encryption.crypto import key_cache_clear

        for signal in (request_started, request_finished, task_prerun, task_postrun):
            signal.connect(key_cache_clear, dispatch_uid=f"cases.key_cache_clear.{id(signal)}")
        # The case page's consent card reads no consent for a case without any (a third of cases).
        from .models import Consent
        from .selectors import CONSENTS_PANEL, case_page_probe_register

        case_page_probe_register(CONSENTS_PANEL, lambda case_id: Consent.objects.filter(case_id=case_id))
        # Deadlines about a case are shown and told only to agencies that see it (notifications.sight);
        # notifications imports no case code.
        from notifications.sight import deadline_case_sight_register

        from .selectors import case_seen_by_agency

        deadline_case_sight_register(case_seen_by_agency)
        # Connects the sign-in receiver that offers unfinished intake drafts again.
        from .intake import receivers  # noqa: F401
