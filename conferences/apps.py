from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConferencesConfig(AppConfig):
    name = "conferences"
    verbose_name = _("Case meetings")

    def ready(self):
        # The risk rule "a new incident within a year of the case's last meeting" reads the held
        # meetings through risk.hooks; risk imports nothing of this app.
        from risk.hooks import last_meeting_provider_set

        from .selectors import last_meeting_dates

        last_meeting_provider_set(last_meeting_dates)

        from agencies.demo import demo_step_register

        from .demo import seed_demo_conferences_step

        demo_step_register(seed_demo_conferences_step)

        # The case page's plan panel reads nothing for a case without plan items (cases.selectors).
        from cases.selectors import case_page_probe_register

        from .models import PLAN_PANEL, ActionPlanItem

        case_page_probe_register(PLAN_PANEL, lambda case_id: ActionPlanItem.objects.filter(case_id=case_id))

        # Erasing a case on a meeting's agenda destroys the meeting's key, which seals the reasons typed
        # about the meeting (conferences.keys), whoever erases (retention, a request, reapply_erasures).
        from cases.erasure import case_anonymised

        from .keys import case_anonymised_meeting_keys

        case_anonymised.connect(case_anonymised_meeting_keys, dispatch_uid="conferences.case_anonymised_meeting_keys")
