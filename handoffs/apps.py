from django.apps import AppConfig


class HandoffsConfig(AppConfig):
    """Handoffs: a case sent from one agency to another (referral or transfer), its answer and its
    response deadline. The model, its choices and HANDOFF_MACHINE are in handoffs.models (table
    cases_handoff, the name it had when the model lived in cases)."""

    name = "handoffs"

    def ready(self) -> None:
        from cases.demo import demo_referral_sender_register
        from cases.sharing import share_source_register

        # This app's timeline writers and renderers register with cases (cases.events, cases.timeline).
        from . import events  # noqa: F401
        from .demo import seed_demo_referral
        from .sharing import handoff_case_shares

        # A case's rights follow its accepted and completed handoffs (cases.sharing).
        share_source_register(handoff_case_shares)
        # The case page's coordination panel reads no handoff for a case without any (cases.selectors).
        from cases.selectors import case_page_probe_register

        from .models import HANDOFF_PANEL, Handoff

        case_page_probe_register(HANDOFF_PANEL, lambda case_id: Handoff.objects.filter(case_id=case_id))
        # The demo cases' stories send their referrals through this app (cases.demo).
        demo_referral_sender_register(seed_demo_referral)
        # A handoff's response deadline is the receiving agency's answer to a handoff it reads before it
        # sees the case: listed and told by the handoff's access, not the case's (notifications.sight).
        from notifications.sight import deadline_own_access_register

        from .selectors import HANDOFF_SUBJECT_PREFIX

        deadline_own_access_register(HANDOFF_SUBJECT_PREFIX)
