"""Gathers the facts of one case for the sharing policy and applies the result.

Called inside the transaction of every change to a case's lead agency, consents, handoffs or
break-glass uses, so that access changes commit (or roll back) together with their cause. Ends
in time (consent and refusal expiry, the end of a break-glass use) need no call: the rows carry
their validity intervals and reads compare them with the clock.
"""

from collections import defaultdict
from collections.abc import Callable, Mapping

from django.contrib.auth.models import User
from django.utils import timezone

from agencies.models import Agency, Membership
from permissions.categories import CaseRight
from permissions.models import BreakGlassUse
from permissions.policy import (
    CASE_ROLES,
    BreakGlassFact,
    ConsentFact,
    Recipient,
    ShareFact,
    break_glass_grants,
    case_grants,
    recipient_grants,
    refused_now,
)
from permissions.services import access_rows_replace

from .models import Case, CaseAccessRow, Consent


def _consents_in_force(case: Case, now) -> list[Consent]:
    return list(
        Consent.objects.in_force(now).filter(case=case)
        .order_by("recorded_at", "id")
    )


def _consent_fact(consent: Consent) -> ConsentFact:
    return ConsentFact(
        granted=frozenset(consent.granted_categories),
        refused=frozenset(consent.refused_categories),
        expires_at=consent.expires_at,
        reason=f"consent:{consent.pk}",
    )


def _applying_to(consents: list[Consent], agency_id: int, sector: str) -> tuple[ConsentFact, ...]:
    """The consents addressed to the agency itself or to its whole sector."""
    return tuple(
        _consent_fact(c) for c in consents
        if c.receiving_agency_id == agency_id or (c.receiving_sector and c.receiving_sector == sector)
    )


# The apps built on the case that give other agencies a share of it (handoffs: its accepted and
# completed handoffs) register a source here from their AppConfig.ready(): cases imports none of them.
# A source returns the case's shares by agency id, each agency's in the order they were given.
ShareSource = Callable[[Case], dict[int, list[ShareFact]]]
SHARE_SOURCES: list[ShareSource] = []


def share_source_register(source: ShareSource) -> None:
    if source not in SHARE_SOURCES:
        SHARE_SOURCES.append(source)


def _case_shares(case: Case) -> dict[int, list[ShareFact]]:
    shares: dict[int, list[ShareFact]] = {}
    for source in SHARE_SOURCES:
        for agency_id, facts in source(case).items():
            shares.setdefault(agency_id, []).extend(facts)
    return shares


def _recipients(shares: dict[int, list[ShareFact]], consents: list[Consent],
                sectors: Mapping[int, str]) -> list[Recipient]:
    return [
        Recipient(agency_id=agency_id, consents=_applying_to(consents, agency_id, sector),
                  shares=tuple(shares[agency_id]))
        for agency_id, sector in sorted(sectors.items())
    ]


def _recipients_and_lead_sector(*, case: Case, consents: list[Consent]) -> tuple[list[Recipient], str]:
    """Every agency other than the lead that holds a share of the case, with the consents that
    apply to it (its own and its sector's); and the lead's sector, from the same query."""
    shares = _case_shares(case)
    shares.pop(case.lead_agency_id, None)
    sectors = dict(Agency.objects.filter(pk__in=list(shares), active=True).values_list("pk", "sector"))
    lead_sector = ""
    if any(c.receiving_sector for c in consents):
        # Only a consent to a whole sector needs the lead's sector (mostly loaded with the case already).
        lead_sector = case.lead_agency.sector
    return _recipients(shares, consents, sectors), lead_sector


def case_grants_from_rows(
    *, lead_agency_id: int, lead_sector: str, consents: list[Consent], shares: dict[int, list[ShareFact]],
    active_sectors: Mapping[int, str],
) -> dict:
    """Every agency's grants on a case from its rows held in memory, as case_permissions_sync derives
    them from the database: `consents` in force (in the order recorded), `shares` as the share
    sources give them (handoffs.sharing.handoff_shares of the handoffs in the order sent),
    `active_sectors` the sector of every active agency. For writers of many cases at once
    (`manage.py seed_scale`), which have the rows and no reason to read them back."""
    shares = {agency_id: facts for agency_id, facts in shares.items() if agency_id != lead_agency_id}
    sectors = {agency_id: active_sectors[agency_id] for agency_id in shares if agency_id in active_sectors}
    return case_grants(
        lead_agency_id=lead_agency_id, recipients=_recipients(shares, consents, sectors),
        lead_consents=_applying_to(consents, lead_agency_id, lead_sector),
    )


def case_recipients(*, case: Case, consents: list[Consent] | None = None) -> list[Recipient]:
    if consents is None:
        consents = _consents_in_force(case, timezone.now())
    return _recipients_and_lead_sector(case=case, consents=consents)[0]


def _user_agencies(user_ids) -> dict[int, list[tuple[int, str]]]:
    """Each user's case-role agencies (active), with their sectors."""
    agencies: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for user_id, agency_id, sector in Membership.objects.filter(
        user_id__in=set(user_ids), role__in=CASE_ROLES, agency__active=True,
    ).values_list("user_id", "agency_id", "agency__sector"):
        agencies[user_id].append((agency_id, sector))
    return agencies


def break_glass_refused(*, case: Case, user: User) -> frozenset[str]:
    """The categories refused in force to one of the user's agencies or their sectors: break-glass
    cannot open them."""
    consents = _consents_in_force(case, timezone.now())
    applying = [fact for agency_id, sector in _user_agencies([user.pk])[user.pk]
                for fact in _applying_to(consents, agency_id, sector)]
    return refused_now(applying)


def break_glass_facts(*, case: Case, consents: list[Consent], now) -> list[BreakGlassFact]:
    """The case's break-glass uses not yet ended, each with the consents that apply to one of its
    user's agencies (so that a refusal to the user's agency or sector binds break-glass too)."""
    uses = list(BreakGlassUse.objects.filter(case=case, ends_at__gt=now).order_by("started_at", "id"))
    if not uses:
        return []
    agencies = _user_agencies(use.user_id for use in uses)
    facts = []
    for use in uses:
        applying = {
            fact for agency_id, sector in agencies[use.user_id] for fact in _applying_to(consents, agency_id, sector)
        }
        facts.append(BreakGlassFact(
            user_id=use.user_id, categories=frozenset(use.categories), started_at=use.started_at,
            ends_at=use.ends_at, reason=f"break_glass:{use.pk}", consents=tuple(sorted(applying, key=str)),
        ))
    return facts


def case_permissions_sync(*, case: Case) -> None:
    now = timezone.now()
    consents = _consents_in_force(case, now)
    recipients, lead_sector = _recipients_and_lead_sector(case=case, consents=consents)
    grants = case_grants(
        lead_agency_id=case.lead_agency_id, recipients=recipients,
        lead_consents=_applying_to(consents, case.lead_agency_id, lead_sector),
    )
    facts = break_glass_facts(case=case, consents=consents, now=now)
    user_grants: dict[int, object] = {}
    for fact in facts:
        grants_of_use = break_glass_grants(fact)
        if fact.user_id in user_grants:
            for codename, intervals in grants_of_use.grants.items():
                for grant in intervals:
                    user_grants[fact.user_id].add(codename, grant.reason, grant.valid_until, grant.valid_from)
        else:
            user_grants[fact.user_id] = grants_of_use
    # The one representation of access (issue 15): one row per holder in force at any instant (ended
    # break-glass uses dropped). guardian's object-permission rows are no longer written; object
    # checks (`user.has_perm(perm, case)`) answer from these rows (cases.permission_backend).
    access_rows_replace(access_model=CaseAccessRow, case=case, agency_grants=grants, user_grants=user_grants)


def _grant_in_force(grants, codename: str, now) -> bool:
    return any(
        (g.valid_from is None or g.valid_from <= now) and (g.valid_until is None or g.valid_until > now)
        for g in grants.grants.get(codename, [])
    )


def share_opens_case(*, case: Case, agency: Agency, share: ShareFact, now=None) -> bool:
    """Whether this share alone would let the agency see the case (view_case) now, under the policy
    and the consents in force that apply to the agency or its sector."""
    now = now or timezone.now()
    consents = _consents_in_force(case, now)
    grants = recipient_grants(Recipient(agency_id=agency.pk, consents=_applying_to(consents, agency.pk, agency.sector),
                                        shares=(share,)))
    return _grant_in_force(grants, CaseRight.VIEW, now)
