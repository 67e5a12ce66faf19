"""The sharing policy: which agency holds which rights and data categories on a case, and why.

Pure functions over plain facts, so the rules can be read and tested without a database. The
cases app gathers the facts (lead agency, consents in force, accepted handoffs) and applies the
result as object-permission rows.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from agencies.models import CASE_ROLES  # noqa: F401 (defined with the roles; the cases app imports it from here)

from .categories import CaseRight, DataCategory, category_codename

LEAD_RIGHTS = frozenset(CaseRight.values)
RECEIVING_RIGHTS = frozenset({CaseRight.VIEW, CaseRight.LOG_ACTION})
# After a completed handoff the agency keeps sight of the case facts (to see what became of it),
# not of its data categories.
COMPLETED_RIGHTS = frozenset({CaseRight.VIEW})
ALL_CATEGORIES = frozenset(DataCategory.values)


@dataclass(frozen=True)
class ConsentFact:
    """A consent record as the policy sees it; only records in force (not withdrawn, not expired)."""

    granted: frozenset[str]
    refused: frozenset[str]
    expires_at: datetime.datetime | None
    reason: str


@dataclass(frozen=True)
class ShareFact:
    """Why an agency other than the lead holds the case: an accepted handoff, a completed one, or
    having led the case before a transfer."""

    rights: frozenset[str]
    # Categories the sender chose to share; only those that consent (or the override) allows are granted.
    requested: frozenset[str]
    reason: str
    # An emergency override (danger to life, written reason) shares `requested` without consent.
    override: bool = False
    # A former lead collected the data itself: no consent is needed for what it already held.
    needs_consent: bool = True


@dataclass(frozen=True)
class Recipient:
    """An agency other than the lead, with the consents in force that apply to it (its own and its
    sector's) and the shares that put it on the case."""

    agency_id: int
    consents: tuple[ConsentFact, ...]
    shares: tuple[ShareFact, ...]


@dataclass
class Grant:
    """One right or category of one agency, until `valid_until` (None: until the facts change)."""

    codename: str
    reason: str
    valid_until: datetime.datetime | None = None


@dataclass
class AgencyGrants:
    agency_id: int
    grants: dict[str, Grant] = field(default_factory=dict)

    def add(self, codename: str, reason: str, valid_until: datetime.datetime | None) -> None:
        current = self.grants.get(codename)
        if current is None:
            self.grants[codename] = Grant(codename, reason, valid_until)
        elif current.valid_until is not None and (valid_until is None or valid_until > current.valid_until):
            # The longest-lived source decides how long the right lasts.
            self.grants[codename] = Grant(codename, reason, valid_until)


def lead_grants(*, agency_id: int) -> AgencyGrants:
    """The lead agency collected the case and runs it: every right and every category."""
    result = AgencyGrants(agency_id)
    for right in LEAD_RIGHTS:
        result.add(right, "lead", None)
    for category in DataCategory.values:
        result.add(category_codename(category), "lead", None)
    return result


def recipient_grants(recipient: Recipient) -> AgencyGrants:
    """What an agency other than the lead may hold. Consent alone shares nothing: a share (an
    accepted handoff) does, while some consent in force applies to the agency, and then only the
    requested categories that such a consent grants, or that an emergency override covers, minus
    every category that any consent in force refuses. A refusal beats every path, overrides
    included: to lift it, the refusing record is withdrawn and a new one recorded."""
    result = AgencyGrants(recipient.agency_id)
    refused: set[str] = set()
    for consent in recipient.consents:
        refused |= consent.refused
    for share in recipient.shares:
        if share.override or not share.needs_consent:
            sources = [(share.reason, None)]
        else:
            # Being on the case at all needs the survivor's agreement to this recipient: when every
            # consent that applies is withdrawn or expired, the case disappears from the agency.
            sources = [(consent.reason, consent.expires_at) for consent in recipient.consents]
        for reason, valid_until in sources:
            for right in share.rights:
                result.add(right, reason, valid_until)
        for category in sorted(share.requested - refused):
            codename = category_codename(category)
            if share.override or not share.needs_consent:
                result.add(codename, share.reason, None)
                continue
            for consent in recipient.consents:
                if category in consent.granted:
                    result.add(codename, consent.reason, consent.expires_at)
    return result


def case_grants(*, lead_agency_id: int, recipients: Iterable[Recipient]) -> dict[int, AgencyGrants]:
    """Every agency's grants on one case. The lead agency's are never reduced by consents."""
    by_agency = {lead_agency_id: lead_grants(agency_id=lead_agency_id)}
    for recipient in recipients:
        if recipient.agency_id == lead_agency_id:
            continue
        grants = recipient_grants(recipient)
        if grants.grants:
            by_agency[recipient.agency_id] = grants
    return by_agency
