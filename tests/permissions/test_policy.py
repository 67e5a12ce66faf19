"""The sharing rules on plain facts, no database."""

import datetime

from permissions.categories import CaseRight, DataCategory, category_codename
from permissions.policy import ConsentFact, Recipient, case_grants

MEDICAL = DataCategory.MEDICAL
IDENTITY = DataCategory.IDENTITY
LATER = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)
LATEST = datetime.datetime(2027, 6, 1, tzinfo=datetime.UTC)


def consent(granted=(), refused=(), expires_at=None, reason="consent:1"):
    return ConsentFact(frozenset(granted), frozenset(refused), expires_at, reason)


def codenames(grants, agency_id):
    return set(grants[agency_id].grants) if agency_id in grants else set()


def test_lead_agency_holds_every_right_and_category():
    grants = case_grants(lead_agency_id=1, recipients=[])
    assert codenames(grants, 1) == set(CaseRight.values) | {category_codename(c) for c in DataCategory.values}


def test_recipient_gets_exactly_the_consented_categories_and_view_and_log():
    grants = case_grants(lead_agency_id=1, recipients=[Recipient(2, (consent([MEDICAL]),))])
    assert codenames(grants, 2) == {"view_case", "log_action", "view_medical"}


def test_refusal_in_any_record_beats_grants_in_others():
    recipient = Recipient(2, (consent([MEDICAL, IDENTITY]), consent(refused=[MEDICAL], reason="consent:2")))
    assert codenames(case_grants(lead_agency_id=1, recipients=[recipient]), 2) == {
        "view_case", "log_action", "view_identity",
    }


def test_refusing_everything_shares_nothing_not_even_the_case():
    recipient = Recipient(2, (consent([MEDICAL]), consent(refused=[MEDICAL], reason="consent:2")))
    assert 2 not in case_grants(lead_agency_id=1, recipients=[recipient])


def test_consents_do_not_reduce_the_lead_agency():
    grants = case_grants(lead_agency_id=1, recipients=[Recipient(1, (consent(refused=[MEDICAL]),))])
    assert "view_medical" in codenames(grants, 1)


def test_expiry_is_carried_and_the_longest_lived_source_wins():
    recipient = Recipient(2, (consent([MEDICAL], expires_at=LATER), consent([MEDICAL], expires_at=LATEST)))
    grants = case_grants(lead_agency_id=1, recipients=[recipient])[2].grants
    assert grants["view_medical"].valid_until == LATEST
    assert grants["view_case"].valid_until == LATEST


def test_a_consent_without_expiry_outlives_one_with_expiry():
    recipient = Recipient(2, (consent([MEDICAL], expires_at=LATER), consent([MEDICAL], reason="consent:2")))
    grants = case_grants(lead_agency_id=1, recipients=[recipient])[2].grants
    assert grants["view_medical"].valid_until is None
