"""The survivor withdraws the hospital's consent, for the audit tests of what an agency that lost a case still
learns (tests/*/test_audit_withdraw_*.py)."""

import pytest

from cases.models import Consent
from cases.selectors import case_get_for_user
from cases.services import consent_withdraw
from config.exceptions import NotFound


def hospital_consent_withdrawn(world, case) -> None:
    """The police withdraw the hospital's consent in force on `case`; the hospital then no longer sees it."""
    consent = Consent.objects.get(case=case, receiving_agency=world.health, withdrawn_at__isnull=True)
    lead = case_get_for_user(user=world.lead_responder, case_id=case.pk, require="manage_sharing")
    consent_withdraw(access=lead, actor=world.lead_responder, consent_id=consent.pk, reason="")
    with pytest.raises(NotFound):
        case_get_for_user(user=world.receiving_responder, case_id=case.pk)
