"""The review queue of an agency: what its supervisors have not yet signed off.

- handoffs sent or received by the agency that it has not reviewed, except those still waiting for
  an answer within their deadline (there is nothing to judge yet); emergency-override handoffs are
  always listed, first;
- emergency consent overrides waiting for review on cases the agency leads;
- break-glass uses of the agency's cases (its lead at the time of use) or by its own staff, not yet
  reviewed by the agency.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from agencies.models import Agency, Membership
from cases.models import Consent
from handoffs.models import Handoff, HandoffStatus
from permissions.models import BreakGlassUse
from permissions.policy import CASE_ROLES

from .models import BreakGlassReview, HandoffReview

QUEUE_SECTION_LIMIT = 50


def queue_handoffs(*, agency: Agency, now: datetime.datetime | None = None) -> QuerySet[Handoff]:
    now = now or timezone.now()
    reviewed = HandoffReview.objects.filter(handoff=OuterRef("pk"), agency=agency)
    waiting_in_time = Q(status=HandoffStatus.SENT, due_at__gte=now, emergency_override=False)
    return (
        Handoff.objects.filter(Q(from_agency=agency) | Q(to_agency=agency))
        .exclude(waiting_in_time).exclude(Exists(reviewed))
        .select_related("case", "from_agency", "to_agency")
        .order_by("-emergency_override", "-sent_at", "-id")
    )


def queue_consent_overrides(*, agency: Agency) -> QuerySet[Consent]:
    return (
        Consent.objects.filter(case__lead_agency=agency, needs_review=True, emergency_override=True)
        .select_related("case", "receiving_agency", "recorded_by", "recorded_by_agency")
        .order_by("-recorded_at", "-id")
    )


def break_glass_uses_for_agency(*, agency: Agency) -> QuerySet[BreakGlassUse]:
    """Uses on the agency's cases (lead at the time of use) or by its own responders and supervisors."""
    own_staff = Membership.objects.filter(user_id=OuterRef("user_id"), agency=agency, role__in=CASE_ROLES)
    return (
        BreakGlassUse.objects.filter(Q(lead_agency=agency) | Exists(own_staff))
        .select_related("case", "user", "lead_agency")
        .order_by("-started_at", "-id")
    )


def queue_break_glass(*, agency: Agency) -> QuerySet[BreakGlassUse]:
    reviewed = BreakGlassReview.objects.filter(use=OuterRef("pk"), agency=agency)
    return break_glass_uses_for_agency(agency=agency).exclude(Exists(reviewed))


@dataclass(frozen=True)
class ReviewQueue:
    handoffs: list
    handoff_count: int
    consent_overrides: list
    consent_override_count: int
    break_glass: list
    break_glass_count: int

    @property
    def total(self) -> int:
        return self.handoff_count + self.consent_override_count + self.break_glass_count


def review_queue(*, agency: Agency, now: datetime.datetime | None = None,
                 limit: int = QUEUE_SECTION_LIMIT) -> ReviewQueue:
    """Each section's first `limit` items and its full count: six queries whatever the backlog."""
    sections = (queue_handoffs(agency=agency, now=now), queue_consent_overrides(agency=agency),
                queue_break_glass(agency=agency))
    (handoffs, h_count), (consents, c_count), (uses, b_count) = ((list(qs[:limit]), qs.count()) for qs in sections)
    return ReviewQueue(handoffs, h_count, consents, c_count, uses, b_count)


def review_queue_counts(*, agency: Agency, now: datetime.datetime | None = None) -> dict[str, int]:
    return {
        "handoff": queue_handoffs(agency=agency, now=now).count(),
        "consent_override": queue_consent_overrides(agency=agency).count(),
        "break_glass": queue_break_glass(agency=agency).count(),
    }
