"""PROVISIONAL stand-in for the erasure engineer's module (issue 12 part 2), replaced at merge.

Only the interface is relied on elsewhere: `anonymise_case(case, *, actor, reason)` makes the case's
identity and free text unreadable, keeps its structured facts for statistics, sets
`Case.anonymised_at`, records an audit event, and does nothing the second time.
"""

from django.db import transaction
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record

from .models import Action, BreakGlassUse, Case, Consent, Handoff, Survivor

ERASED = "[erased]"


@transaction.atomic
def anonymise_case(case: Case, *, actor, reason: str) -> None:
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.anonymised_at is not None:
        return
    Survivor.objects.filter(pk=case.survivor_id).update(
        full_name="", phone="", address="", guardian_name="", guardian_phone="", phone_hash=""
    )
    Action.objects.filter(case=case).update(text="")
    Consent.objects.filter(case=case).update(purpose=ERASED, withdrawal_reason="", guardian_relationship="")
    Consent.objects.filter(case=case, emergency_override=True).update(override_reason=ERASED)
    Consent.objects.filter(case=case, emergency_override=False).update(override_reason="")
    Handoff.objects.filter(case=case).update(message="", outcome="", withdraw_reason="")
    Handoff.objects.filter(case=case, emergency_override=True).update(override_reason=ERASED)
    Handoff.objects.filter(case=case, status="declined").update(decline_reason=ERASED)
    BreakGlassUse.objects.filter(case=case).update(reason=ERASED)
    case.anonymised_at = timezone.now()
    case.save(update_fields=["anonymised_at"])
    audit_record(actor=actor, action=AuditAction.DELETE, case_id=case.pk, agency_id=case.lead_agency_id,
                 target=f"case:{case.pk}", details={"anonymised": True, "reason": reason[:100]})
