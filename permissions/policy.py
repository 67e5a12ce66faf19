"""The sharing policy: which agency holds which rights and data categories on a case, when, and why.

Pure functions over plain facts, so the rules can be read and tested without a database. The
rules are written in plain words in permissions/README.md; this module is the one place that
applies them. The cases app gathers the facts (lead agency, consents in force, accepted handoffs,
break-glass uses) and stores the result as object-permission rows, each valid over a half-open
interval [valid_from, valid_until): an expiry (of a consent, of a refusal, of a break-glass use)
is an instant the rows already know about, so the very next request after it sees the change.
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
BREAK_GLASS_RIGHTS = frozenset({CaseRight.VIEW})
ALL_CATEGORIES = frozenset(DataCategory.values)

# None as a start: already in force; None as an end: no end.
Instant = datetime.datetime | None


class _Forever:
    """A refusal without an end date."""


FOREVER = _Forever()


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
    """One right or category of one agency (or one user), from `valid_from` (None: already) until
    `valid_until` (None: until the facts change)."""

    codename: str
    reason: str
    valid_until: datetime.datetime | None = None
    valid_from: datetime.datetime | None = None


def _before(a: Instant, b: Instant, *, a_is_start: bool, b_is_start: bool) -> bool:
    """a < b for instants where None means minus infinity as a start, plus infinity as an end."""
    if a is None:
        return a_is_start and not (b is None and b_is_start)
    if b is None:
        return not b_is_start
    return a < b


def _start_max(a: Instant, b: Instant) -> Instant:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _end_max(a: Instant, b: Instant) -> Instant:
    if a is None or b is None:
        return None
    return max(a, b)


@dataclass
class AgencyGrants:
    """The grants of one holder: per codename, a sorted list of disjoint intervals."""

    agency_id: int
    grants: dict[str, list[Grant]] = field(default_factory=dict)

    def add(self, codename: str, reason: str, valid_until: Instant, valid_from: Instant = None) -> None:
        if valid_from is not None and valid_until is not None and valid_from >= valid_until:
            return
        pieces = [*self.grants.get(codename, []), Grant(codename, reason, valid_until, valid_from)]
        pieces.sort(key=lambda g: (g.valid_from is not None, g.valid_from or datetime.datetime.min))
        merged: list[Grant] = []
        for piece in pieces:
            last = merged[-1] if merged else None
            # Overlapping or touching intervals merge; the longest-lived source names the reason.
            if last is not None and not _before(last.valid_until, piece.valid_from, a_is_start=False, b_is_start=True):
                if _before(last.valid_until, piece.valid_until, a_is_start=False, b_is_start=False):
                    last.valid_until, last.reason = piece.valid_until, piece.reason
                continue
            merged.append(Grant(codename, piece.reason, piece.valid_until, piece.valid_from))
        self.grants[codename] = merged

    def codenames(self) -> set[str]:
        return set(self.grants)


def refusal_ends(consents: Iterable[ConsentFact]) -> dict[str, datetime.datetime | _Forever]:
    """For each refused category, when the last refusal in force of it ends (FOREVER: never)."""
    ends: dict[str, datetime.datetime | _Forever] = {}
    for consent in consents:
        end = FOREVER if consent.expires_at is None else consent.expires_at
        for category in consent.refused:
            current = ends.get(category)
            if current is None or current is not FOREVER and (end is FOREVER or end > current):
                ends[category] = end
    return ends


def _category_start(refused: dict, category: str) -> Instant | _Forever:
    """When a category may first be granted: None (now), the end of its refusals, or FOREVER."""
    return refused.get(category)


def _add_category(result: AgencyGrants, refused: dict, category: str, reason: str, until: Instant,
                  since: Instant = None) -> tuple[Instant, Instant] | None:
    """Grant `category` over [since, until) minus its refusals; the interval granted, if any."""
    start = _category_start(refused, category)
    if start is FOREVER:
        return None
    start = _start_max(since, start)
    if start is not None and until is not None and start >= until:
        return None
    result.add(category_codename(category), reason, until, start)
    return start, until


def lead_grants(*, agency_id: int, consents: Iterable[ConsentFact] = ()) -> AgencyGrants:
    """The lead agency runs the case: every right, and every category except those refused in force
    to it (its own agency or its sector); a refused category appears when its refusal ends."""
    result = AgencyGrants(agency_id)
    refused = refusal_ends(consents)
    for right in LEAD_RIGHTS:
        result.add(right, "lead", None)
    for category in sorted(ALL_CATEGORIES):
        _add_category(result, refused, category, "lead", None)
    return result


def recipient_grants(recipient: Recipient) -> AgencyGrants:
    """What an agency other than the lead may hold. Consent alone shares nothing: a share (an
    accepted or completed handoff, a former lead's) does. Of the requested categories, the agency
    gets those that a consent in force grants, or that an emergency override covers, minus every
    category that a consent in force refuses, for as long as the refusal lasts: a refusal beats
    every path, overrides included. A consent-based share puts the agency on the case only while a
    consent in force grants it some category that is not refused: a record that grants nothing
    opens nothing."""
    result = AgencyGrants(recipient.agency_id)
    refused = refusal_ends(recipient.consents)
    for share in recipient.shares:
        if share.override or not share.needs_consent:
            since = None
            if share.override and share.needs_consent and share.requested:
                # An override shares what it asked for minus the refusals in force: it opens the case
                # only once one of those categories is no longer refused.
                starts = [_category_start(refused, c) for c in share.requested]
                starts = [t for t in starts if t is not FOREVER]
                if not starts:
                    continue
                since = None if None in starts else min(starts)
            for right in share.rights:
                result.add(right, share.reason, None, since)
            for category in sorted(share.requested):
                _add_category(result, refused, category, share.reason, None)
            continue
        for consent in recipient.consents:
            # An accepted handoff opens the case only through a category it asked for; a completed
            # one (nothing asked any more) keeps the case facts while some category is granted.
            opening = consent.granted if share.rights == COMPLETED_RIGHTS else consent.granted & share.requested
            opens = [_category_start(refused, g) for g in opening]
            opens = [s for s in opens if s is not FOREVER]
            if not opens:
                continue
            since = None if None in opens else min(opens)
            for right in share.rights:
                result.add(right, consent.reason, consent.expires_at, since)
            for category in sorted(share.requested & consent.granted):
                _add_category(result, refused, category, consent.reason, consent.expires_at)
    return result


def case_grants(
    *, lead_agency_id: int, recipients: Iterable[Recipient], lead_consents: Iterable[ConsentFact] = ()
) -> dict[int, AgencyGrants]:
    """Every agency's grants on one case. `lead_consents`: the consents in force that apply to the
    lead agency (its own and its sector's); only their refusals matter to it."""
    by_agency = {lead_agency_id: lead_grants(agency_id=lead_agency_id, consents=lead_consents)}
    for recipient in recipients:
        if recipient.agency_id == lead_agency_id:
            continue
        grants = recipient_grants(recipient)
        if grants.grants:
            by_agency[recipient.agency_id] = grants
    return by_agency


@dataclass(frozen=True)
class BreakGlassFact:
    """One break-glass use in force: the user, the categories asked for, and its time window."""

    user_id: int
    categories: frozenset[str]
    started_at: datetime.datetime
    ends_at: datetime.datetime
    reason: str
    # The consents in force that apply to the user's agencies (each agency's own and its sector's).
    consents: tuple[ConsentFact, ...] = ()


def break_glass_grants(use: BreakGlassFact) -> AgencyGrants:
    """The user's own rights from a break-glass use: view_case and the chosen categories, minus
    every category refused in force to one of the user's agencies or their sectors, for the use's
    window only. `agency_id` of the result is the user's id."""
    result = AgencyGrants(use.user_id)
    refused = refusal_ends(use.consents)
    for right in BREAK_GLASS_RIGHTS:
        result.add(right, use.reason, use.ends_at, use.started_at)
    for category in sorted(use.categories):
        _add_category(result, refused, category, use.reason, use.ends_at, use.started_at)
    return result


def refused_now(consents: Iterable[ConsentFact]) -> frozenset[str]:
    """The categories that some consent in force refuses."""
    return frozenset(refusal_ends(consents))
