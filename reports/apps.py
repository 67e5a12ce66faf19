from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self):
        # The last demo step, so the demo reports count the demo's cases, assessments and meetings.
        from agencies.demo import demo_step_register

        # coordination registers the referral, deadline and takedown tables in indicators.INDICATORS,
        # after indicators' own tables (coordination imports indicators; never the other way round),
        # and meetings issue 17's tables (risk assessments, case meetings, action plans) after those.
        from . import coordination, meetings  # noqa: F401
        from .demo import seed_demo_reports_step

        demo_step_register(seed_demo_reports_step, last=True)
