from django.apps import AppConfig


class CasesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cases"

    def ready(self):
        # seed_demo runs the agencies' demo steps and then the registered ones; agencies imports no cases code.
        from agencies.demo import demo_step_register

        from .demo import seed_demo_cases_step

        demo_step_register(seed_demo_cases_step)
        # Connects the sign-in receiver that offers unfinished intake drafts again.
        from . import intake  # noqa: F401
