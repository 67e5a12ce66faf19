"""The sharing policy: which agency holds which rights and data categories on a case, and why.

Pure functions over plain facts, so the rules can be read and tested without a database. The
cases app gathers the facts (lead agency, consents in force, accepted handoffs) and applies the
result as object-permission rows.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from agencies.models import Role

from .categories import CaseRight, DataCategory, category_codename

# Roles whose agency group receives a case's object permissions. Agency admins manage staff, not cases.
CASE_ROLES = (Role.RESPONDER, Role.SUPERVISOR)

LEAD_RIGHTS = frozenset(CaseRight.values)
RECEIVING_RIGHTS = frozenset({CaseRight.VIEW, CaseRight.LOG_ACTION})


@dataclass(frozen=True)
class ConsentFact:
    """A consent record as the policy sees it; only records in force (not withdrawn, not expired)."""

    granted: frozenset[str]
    refused: frozenset[str]
    expires_at: datetime.datetime | None
    reason: str


@dataclass(frozen=True)
class Recipient:
    """An agency that may receive a share of the case, with the consents that apply to it."""

    agency_id: int
    consents: tuple[ConsentFact, ...]
    rights: frozenset[str] = RECEIVING_RIGHTS


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
    """What a receiving agency may hold: the categories some consent in force grants it, minus
    every category that any consent in force refuses it. A refusal is never overridden by
    another record, a sector-wide consent or an emergency override: to lift it, the refusing
    record is withdrawn and a new one recorded."""
    result = AgencyGrants(recipient.agency_id)
    refused: set[str] = set()
    for consent in recipient.consents:
        refused |= consent.refused
    for consent in recipient.consents:
        shared = consent.granted - refused
        if not shared:
            continue
        for category in sorted(shared):
            result.add(category_codename(category), consent.reason, consent.expires_at)
        for right in recipient.rights:
            result.add(right, consent.reason, consent.expires_at)
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
