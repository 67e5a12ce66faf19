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
        from cases.signals import case_reopened

        from .receivers import case_anonymised_shred, case_reopened_notice_cancel

        case_anonymised.connect(case_anonymised_shred, dispatch_uid="privacy.case_anonymised_shred")
        # A reopened case's retention notice is cancelled in the reopening's transaction (cases does not
        # import this app).
        case_reopened.connect(case_reopened_notice_cancel, dispatch_uid="privacy.case_reopened")
