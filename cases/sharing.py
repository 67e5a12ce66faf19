"""Gathers the facts of one case for the sharing policy and applies the result.

Called inside the transaction of every change to a case's lead agency, consents or handoffs, so
that access changes commit (or roll back) together with their cause.
"""

from django.db.models import Q
from django.utils import timezone

from agencies.models import Agency
from permissions.policy import (
    ALL_CATEGORIES,
    COMPLETED_RIGHTS,
    RECEIVING_RIGHTS,
    ConsentFact,
    Recipient,
    ShareFact,
    case_grants,
)
from permissions.services import object_permissions_replace

from .models import Case, CaseGroupObjectPermission, Consent, Handoff, HandoffKind, HandoffStatus


def _consents_in_force(case: Case) -> list[Consent]:
    now = timezone.now()
    return list(
        Consent.objects.filter(case=case, withdrawn_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("recorded_at", "id")
    )


def _consent_fact(consent: Consent) -> ConsentFact:
    return ConsentFact(
        granted=frozenset(consent.granted_categories),
        refused=frozenset(consent.refused_categories),
        expires_at=consent.expires_at,
        reason=f"consent:{consent.pk}",
    )


def _handoff_shares(case: Case) -> dict[int, list[ShareFact]]:
    shares: dict[int, list[ShareFact]] = {}
    handoffs = Handoff.objects.filter(
        case=case, status__in=[HandoffStatus.ACCEPTED, HandoffStatus.COMPLETED]
    ).order_by("sent_at", "id")
    for handoff in handoffs:
        reason = f"handoff:{handoff.pk}"
        if handoff.status == HandoffStatus.ACCEPTED:
            # For a transfer the receiver is the lead now; its share is popped in case_recipients.
            share = ShareFact(RECEIVING_RIGHTS, frozenset(handoff.categories), reason, handoff.emergency_override)
            shares.setdefault(handoff.to_agency_id, []).append(share)
        else:
            share = ShareFact(COMPLETED_RIGHTS, frozenset(), reason, handoff.emergency_override)
            shares.setdefault(handoff.to_agency_id, []).append(share)
        if handoff.kind == HandoffKind.TRANSFER:
            # The agency that handed the lead over keeps working on the case with what it collected.
            share = ShareFact(RECEIVING_RIGHTS, ALL_CATEGORIES, f"former_lead:{handoff.pk}", needs_consent=False)
            shares.setdefault(handoff.from_agency_id, []).append(share)
    return shares


def case_recipients(*, case: Case) -> list[Recipient]:
    """Every agency other than the lead that holds a share of the case, with the consents that
    apply to it (its own and its sector's)."""
    shares = _handoff_shares(case)
    shares.pop(case.lead_agency_id, None)
    consents = _consents_in_force(case)
    sectors = dict(Agency.objects.filter(pk__in=list(shares), active=True).values_list("pk", "sector"))
    return [
        Recipient(
            agency_id=agency_id,
            consents=tuple(
                _consent_fact(c) for c in consents if c.receiving_agency_id == agency_id or c.receiving_sector == sector
            ),
            shares=tuple(shares[agency_id]),
        )
        for agency_id, sector in sorted(sectors.items())
    ]


def case_permissions_sync(*, case: Case) -> None:
    grants = case_grants(lead_agency_id=case.lead_agency_id, recipients=case_recipients(case=case))
    object_permissions_replace(perm_model=CaseGroupObjectPermission, obj=case, agency_grants=grants)
