"""The sharing rules on plain facts, no database."""

import datetime

from permissions.categories import CaseRight, DataCategory, category_codename
from permissions.policy import (
    ALL_CATEGORIES,
    COMPLETED_RIGHTS,
    RECEIVING_RIGHTS,
    ConsentFact,
    Recipient,
    ShareFact,
    case_grants,
)

MEDICAL = DataCategory.MEDICAL
IDENTITY = DataCategory.IDENTITY
LATER = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)
LATEST = datetime.datetime(2027, 6, 1, tzinfo=datetime.UTC)


def consent(granted=(), refused=(), expires_at=None, reason="consent:1"):
    return ConsentFact(frozenset(granted), frozenset(refused), expires_at, reason)


def referral(requested=(MEDICAL,), override=False):
    return ShareFact(RECEIVING_RIGHTS, frozenset(requested), "handoff:1", override=override)


def codenames(grants, agency_id):
    return set(grants[agency_id].grants) if agency_id in grants else set()


MEDICAL_REFERRAL = referral()


def grants_of(*consents, shares=(MEDICAL_REFERRAL,)):
    return case_grants(lead_agency_id=1, recipients=[Recipient(2, tuple(consents), tuple(shares))])


def test_lead_agency_holds_every_right_and_category():
    grants = case_grants(lead_agency_id=1, recipients=[])
    assert codenames(grants, 1) == set(CaseRight.values) | {category_codename(c) for c in DataCategory.values}


def test_recipient_gets_the_requested_consented_categories_and_view_and_log():
    assert codenames(grants_of(consent([MEDICAL, IDENTITY])), 2) == {"view_case", "log_action", "view_medical"}


def test_consent_without_a_share_grants_nothing():
    assert codenames(grants_of(consent([MEDICAL]), shares=()), 2) == set()


def test_a_share_without_consent_grants_nothing():
    assert codenames(grants_of(shares=(referral(),)), 2) == set()


def test_an_override_share_needs_no_consent():
    assert codenames(grants_of(shares=(referral(override=True),)), 2) == {"view_case", "log_action", "view_medical"}


def test_refusal_in_any_record_beats_grants_in_others():
    grants = grants_of(consent([MEDICAL, IDENTITY]), consent(refused=[MEDICAL], reason="consent:2"),
                       shares=(referral([MEDICAL, IDENTITY]),))
    assert codenames(grants, 2) == {"view_case", "log_action", "view_identity"}


def test_refusal_beats_an_override():
    grants = grants_of(consent(refused=[MEDICAL]), shares=(referral([MEDICAL, IDENTITY], override=True),))
    assert codenames(grants, 2) == {"view_case", "log_action", "view_identity"}


def test_completed_share_keeps_only_the_case_facts():
    completed = ShareFact(COMPLETED_RIGHTS, frozenset(), "handoff:1")
    assert codenames(grants_of(consent([MEDICAL]), shares=(completed,)), 2) == {"view_case"}


def test_former_lead_needs_no_consent_but_refusals_still_apply():
    former = ShareFact(RECEIVING_RIGHTS, ALL_CATEGORIES, "former_lead:1", needs_consent=False)
    grants = grants_of(consent(refused=[MEDICAL]), shares=(former,))
    assert codenames(grants, 2) == {"view_case", "log_action"} | {
        category_codename(c) for c in ALL_CATEGORIES - {MEDICAL}
    }


def test_a_share_of_the_lead_itself_changes_nothing():
    grants = case_grants(lead_agency_id=1, recipients=[Recipient(1, (consent(refused=[MEDICAL]),), (referral(),))])
    assert "view_medical" in codenames(grants, 1)


def test_a_refusal_to_the_lead_binds_it_until_the_refusal_ends():
    grants = case_grants(lead_agency_id=1, recipients=[], lead_consents=(consent(refused=[MEDICAL], expires_at=LATER),))
    (medical,) = grants[1].grants["view_medical"]
    assert (medical.valid_from, medical.valid_until) == (LATER, None)
    assert all(g.valid_from is None for c, gs in grants[1].grants.items() if c != "view_medical" for g in gs)
    forever = case_grants(lead_agency_id=1, recipients=[], lead_consents=(consent(refused=[MEDICAL]),))
    assert "view_medical" not in forever[1].grants and "manage_sharing" in forever[1].grants


def test_a_refused_category_is_granted_from_the_end_of_the_refusal_to_the_end_of_the_consent():
    grants = grants_of(consent([MEDICAL], expires_at=LATEST), consent(refused=[MEDICAL], expires_at=LATER))[2].grants
    assert [(g.valid_from, g.valid_until) for g in grants["view_medical"]] == [(LATER, LATEST)]
    assert [(g.valid_from, g.valid_until) for g in grants["view_case"]] == [(LATER, LATEST)]
    # A refusal outliving the consent leaves nothing.
    assert codenames(grants_of(consent([MEDICAL], expires_at=LATER), consent(refused=[MEDICAL], expires_at=LATEST)),
                     2) == set()


def test_a_consent_that_grants_nothing_opens_nothing():
    assert codenames(grants_of(consent(refused=[IDENTITY]), shares=(referral([]),)), 2) == set()
    completed = ShareFact(COMPLETED_RIGHTS, frozenset(), "handoff:1")
    assert codenames(grants_of(consent(refused=[IDENTITY]), shares=(completed,)), 2) == set()
    # Granting something that is not asked for does not put the agency on the case: it holds no category.
    assert codenames(grants_of(consent([IDENTITY]), shares=(referral([]),)), 2) == set()
    assert codenames(grants_of(consent([IDENTITY]), shares=(referral([MEDICAL]),)), 2) == set()
    # A completed handoff keeps sight of the case facts while some category is granted.
    assert codenames(grants_of(consent([IDENTITY]), shares=(completed,)), 2) == {"view_case"}


def test_disjoint_intervals_of_one_right_stay_apart():
    early = consent([IDENTITY], expires_at=LATER)
    late = consent([MEDICAL], reason="consent:2")
    refusal = consent(refused=[MEDICAL], expires_at=LATEST, reason="consent:3")
    grants = grants_of(early, late, refusal, shares=(referral([MEDICAL, IDENTITY]),))[2].grants
    assert [(g.valid_from, g.valid_until) for g in grants["view_case"]] == [(None, LATER), (LATEST, None)]


def test_expiry_is_carried_and_the_longest_lived_source_wins():
    grants = grants_of(consent([MEDICAL], expires_at=LATER), consent([MEDICAL], expires_at=LATEST))[2].grants
    assert grants["view_medical"][0].valid_until == LATEST
    assert grants["view_case"][0].valid_until == LATEST


def test_a_consent_without_expiry_outlives_one_with_expiry():
    grants = grants_of(consent([MEDICAL], expires_at=LATER), consent([MEDICAL], reason="consent:2"))[2].grants
    assert grants["view_medical"][0].valid_until is None
    assert grants["view_case"][0].valid_until is None
