"""Gathers the facts of one case for the sharing policy and applies the result.

Called inside the transaction of every change to a case's lead agency or consents, so that access
changes commit (or roll back) together with their cause.
"""

from django.db.models import Q
from django.utils import timezone

from agencies.models import Agency
from permissions.policy import ConsentFact, Recipient, case_grants
from permissions.services import object_permissions_replace

from .models import Case, CaseGroupObjectPermission, Consent


def _consents_in_force(case: Case) -> list[Consent]:
    now = timezone.now()
    return list(
        Consent.objects.filter(case=case, withdrawn_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("recorded_at", "id")
    )


def _fact(consent: Consent) -> ConsentFact:
    return ConsentFact(
        granted=frozenset(consent.granted_categories),
        refused=frozenset(consent.refused_categories),
        expires_at=consent.expires_at,
        reason=f"consent:{consent.pk}",
    )


def case_recipients(*, case: Case) -> list[Recipient]:
    """Every agency other than the lead that a consent in force names, with the consents (its own
    and its sector's) that apply to it."""
    consents = _consents_in_force(case)
    agency_ids = {c.receiving_agency_id for c in consents if c.receiving_agency_id}
    agency_ids.discard(case.lead_agency_id)
    sectors = dict(Agency.objects.filter(pk__in=agency_ids, active=True).values_list("pk", "sector"))
    recipients = []
    for agency_id, sector in sorted(sectors.items()):
        applicable = tuple(
            _fact(c) for c in consents if c.receiving_agency_id == agency_id or c.receiving_sector == sector
        )
        recipients.append(Recipient(agency_id=agency_id, consents=applicable))
    return recipients


def case_permissions_sync(*, case: Case) -> None:
    grants = case_grants(lead_agency_id=case.lead_agency_id, recipients=case_recipients(case=case))
    object_permissions_replace(perm_model=CaseGroupObjectPermission, obj=case, agency_grants=grants)
