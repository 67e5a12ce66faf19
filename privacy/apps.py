from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Personal data protection")

    def ready(self):
        # After the cases' demo step (INSTALLED_APPS order): the requests are about demo cases.
        from agencies.demo import demo_step_register

        from .demo import seed_demo_privacy_step

        demo_step_register(seed_demo_privacy_step)

        from cases.erasure import case_anonymised

        from .receivers import case_anonymised_shred

        case_anonymised.connect(case_anonymised_shred, dispatch_uid="privacy.case_anonymised_shred")
