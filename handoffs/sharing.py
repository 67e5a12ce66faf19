"""What a case's handoffs share with other agencies, for the sharing policy (cases.sharing).

HandoffsConfig.ready() registers `handoff_case_shares` as a share source of cases.sharing, so a
case's rights follow its accepted and completed handoffs wherever they are computed, and cases
imports no handoff code.
"""

from collections.abc import Iterable

from django.utils import timezone

from cases.models import Case
from cases.sharing import share_opens_case
from permissions.policy import ALL_CATEGORIES, COMPLETED_RIGHTS, RECEIVING_RIGHTS, ShareFact

from .models import Handoff, HandoffKind, HandoffStatus


def handoff_shares(handoffs: Iterable[Handoff]) -> dict[int, list[ShareFact]]:
    """The shares of the case's accepted and completed handoffs (in the order they were sent), by
    receiving agency; a transfer also leaves a share with the agency that handed the lead over."""
    shares: dict[int, list[ShareFact]] = {}
    for handoff in handoffs:
        reason = f"handoff:{handoff.pk}"
        if handoff.status == HandoffStatus.ACCEPTED:
            # For a transfer the receiver is the lead now; its share is popped in case_recipients.
            share = ShareFact(RECEIVING_RIGHTS, frozenset(handoff.categories), reason, handoff.emergency_override)
            shares.setdefault(handoff.to_agency_id, []).append(share)
        elif handoff.status == HandoffStatus.COMPLETED:
            share = ShareFact(COMPLETED_RIGHTS, frozenset(), reason, handoff.emergency_override)
            shares.setdefault(handoff.to_agency_id, []).append(share)
        else:
            continue
        if handoff.kind == HandoffKind.TRANSFER:
            # The agency that handed the lead over keeps working on the case with what it collected.
            share = ShareFact(RECEIVING_RIGHTS, ALL_CATEGORIES, f"former_lead:{handoff.pk}", needs_consent=False)
            shares.setdefault(handoff.from_agency_id, []).append(share)
    return shares


def handoff_case_shares(case: Case) -> dict[int, list[ShareFact]]:
    return handoff_shares(Handoff.objects.filter(
        case=case, status__in=[HandoffStatus.ACCEPTED, HandoffStatus.COMPLETED]
    ).order_by("sent_at", "id"))


def handoff_acceptance_opens_case(*, handoff: Handoff, now=None) -> bool:
    """Whether accepting this waiting handoff would let the receiving agency see the case (view_case)
    now, under the policy and the consents in force. What the receiver may preview before accepting
    (the case facts used for triage) is never more than what accepting reveals: a transfer makes it
    the lead; a referral opens the case only through a requested category that a consent in force
    grants it (or the override covers) and that is not refused."""
    if handoff.kind == HandoffKind.TRANSFER:
        return True
    share = ShareFact(RECEIVING_RIGHTS, frozenset(handoff.categories), f"handoff:{handoff.pk}",
                      handoff.emergency_override)
    return share_opens_case(case=handoff.case, agency=handoff.to_agency, share=share, now=now or timezone.now())
