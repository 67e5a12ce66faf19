from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    name = "risk"
    verbose_name = _("Risk assessment")

    def ready(self):
        # The instrument is read and checked now: a bad file stops the start with every problem listed
        # (risk.instrument.InstrumentError), not the first assessment.
        from .instrument import instrument_current

        instrument_current()

        from agencies.demo import demo_step_register
        from cases.risk_floor import risk_floor_provider_set
        from cases.signals import incident_recorded

        from .demo import seed_demo_risk_step
        from .selectors import latest_assessed_level
        from .services import risk_review_after_incident

        risk_floor_provider_set(latest_assessed_level)
        # The case page's risk panel reads nothing for a case never assessed (cases.selectors).
        from cases.selectors import case_page_probe_register

        from .models import RISK_PANEL, RiskAssessment

        case_page_probe_register(RISK_PANEL, lambda case_id: RiskAssessment.objects.filter(case_id=case_id))
        incident_recorded.connect(risk_review_after_incident, dispatch_uid="risk.review_after_incident")
        demo_step_register(seed_demo_risk_step)
