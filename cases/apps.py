from django.apps import AppConfig


class CasesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cases"

    def ready(self):
        # seed_demo runs the agencies' demo steps and then the registered ones; agencies imports no cases code.
        from agencies.demo import demo_step_register

        from .demo import seed_demo_cases_step

        demo_step_register(seed_demo_cases_step)

        # Unwrapped case keys live for one request or task at most (cases.crypto).
        from celery.signals import task_postrun, task_prerun
        from django.core.signals import request_finished, request_started

        from .crypto import key_cache_clear

        for signal in (request_started, request_finished, task_prerun, task_postrun):
            signal.connect(key_cache_clear, dispatch_uid=f"cases.key_cache_clear.{id(signal)}")
        # The deadline sweep (notifications) tells a case deadline's overdue and escalated stages
        # here, on the case's timeline, without importing cases.
        from notifications.signals import deadline_stage_reached

        from .deadlines import deadline_stage_timeline

        deadline_stage_reached.connect(deadline_stage_timeline, dispatch_uid="cases.deadline_stage_timeline")
        # Connects the sign-in receiver that offers unfinished intake drafts again.
        from . import intake  # noqa: F401
