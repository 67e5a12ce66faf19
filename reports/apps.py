from django.apps import AppConfig


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"

    def ready(self):
        # Registered after the cases' step, so the demo reports count the demo cases.
        from agencies.demo import demo_step_register

        from .demo import seed_demo_reports_step

        demo_step_register(seed_demo_reports_step)
