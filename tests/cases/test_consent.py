"""Consent: child rules, emergency overrides, refusals that nothing overrides, expiry and withdrawal
that take effect at once."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from cases.models import CaseAccessRow, CaseEvent, Consent
from cases.selectors import case_list_visible_to
from cases.serializers import ConsentWithdrawInputSerializer
from cases.services import consent_withdraw
from config.exceptions import NotFound
from tests.cases.services_helpers import (
    access_for,
    consent_data,
    consent_record_through_edge,
    open_case,
    refer,
    refused_writing_nothing,
    row_counts,
    survivor_data,
    through_edge,
)


def _case_with_age(world, age):
    return open_case(world, survivor=survivor_data(birth_year=None, age=age) if age is not None
                     else survivor_data(birth_year=None))


def _record(world, case, **overrides):
    return consent_record_through_edge(access=access_for(world.lead_responder, case), actor=world.lead_responder,
                                       data=consent_data(world, **overrides))


GUARDIAN = {"given_by": "guardian", "guardian_relationship": "Mẹ"}
TOGETHER = {"given_by": "survivor_and_guardian", "guardian_relationship": "Bố"}
ALONE = {"given_by": "survivor"}


@pytest.mark.parametrize(("age", "giver", "allowed"), [
    (3, GUARDIAN, True), (3, TOGETHER, False), (3, ALONE, False),
    (6, GUARDIAN, True), (6, TOGETHER, False),
    (7, TOGETHER, True), (7, GUARDIAN, False), (7, ALONE, False),
    (15, TOGETHER, True), (15, ALONE, False), (15, GUARDIAN, False),
    (16, ALONE, True), (16, TOGETHER, False), (16, GUARDIAN, False),
    (40, ALONE, True), (40, GUARDIAN, False),
    (None, ALONE, True), (None, GUARDIAN, True),
])
def test_who_consents_depends_on_the_childs_age(world, age, giver, allowed):
    case = _case_with_age(world, age)
    before = row_counts()
    if allowed:
        consent = _record(world, case, **giver)
        assert consent.given_by == giver["given_by"]
    else:
        with pytest.raises(ValidationError) as excinfo:
            _record(world, case, **giver)
        assert "given_by" in excinfo.value.message_dict
        assert row_counts() == before


def test_the_initial_consent_of_a_child_follows_the_same_rules(world):
    with pytest.raises(ValidationError) as excinfo:
        open_case(world, survivor=survivor_data(birth_year=None, age=10), consent=consent_data(world, **ALONE))
    assert "consent.given_by" in excinfo.value.message_dict
    case = open_case(world, survivor=survivor_data(birth_year=None, age=10), consent=consent_data(world, **TOGETHER))
    assert Consent.objects.get(case=case).guardian_relationship == "Bố"


def test_a_guardian_consent_names_the_guardians_relationship(world):
    case = _case_with_age(world, 5)
    with pytest.raises(ValidationError) as excinfo:
        _record(world, case, given_by="guardian")
    assert "guardian_relationship" in excinfo.value.message_dict


def test_an_override_needs_a_reason_is_flagged_and_audited_as_an_override(world):
    case = _case_with_age(world, 10)
    with pytest.raises(ValidationError) as excinfo:
        _record(world, case, emergency_override=True, override_reason="   ")
    assert "override_reason" in excinfo.value.message_dict

    # Danger to life: shared without the child's consent, so the child rules do not block it.
    consent = _record(world, case, emergency_override=True, override_reason="Nguy hiểm đến tính mạng", **ALONE)
    assert consent.needs_review and consent.emergency_override
    event = AuditEvent.objects.filter(case_id=case.pk).latest("seq")
    # The trail points at the consent, whose reason is sealed with the case key; it holds no text.
    assert event.action == "consent_override" and event.reason == "" and event.target == f"consent:{consent.pk}"
    assert consent.override_reason == "Nguy hiểm đến tính mạng"
    assert event.categories == ["medical"]
    refer(world, case)
    assert access_for(world.receiving_responder, case).categories == {"medical"}


def test_an_ordinary_consent_is_not_flagged_and_is_audited_as_a_share(world):
    case = open_case(world)
    consent = _record(world, case)
    assert not consent.needs_review
    event = AuditEvent.objects.filter(case_id=case.pk).latest("seq")
    assert (event.action, event.target, event.agency_id) == ("share", f"consent:{consent.pk}", world.police.pk)
    assert CaseEvent.objects.filter(case=case, type="consent_recorded").count() == 1


def test_a_refusal_blocks_a_later_grant_even_by_override(world):
    case = open_case(world)
    _record(world, case, granted_categories=["contact"], refused_categories=["medical"])
    refer(world, case, categories=["contact"])
    for extra in ({}, {"emergency_override": True, "override_reason": "Nguy hiểm đến tính mạng"}):
        with refused_writing_nothing("granted_categories"):
            _record(world, case, granted_categories=["medical"], refused_categories=[], **extra)
    assert access_for(world.receiving_responder, case).categories == {"contact"}


def test_a_sector_refusal_blocks_a_grant_to_an_agency_of_that_sector(world):
    case = open_case(world)
    _record(world, case, receiving_agency=None, receiving_sector="health", granted_categories=[],
            refused_categories=["psychosocial"])
    with pytest.raises(ValidationError):
        _record(world, case, granted_categories=["psychosocial"], refused_categories=[])


def test_a_sector_consent_never_grants_what_the_agency_refused(world):
    case = open_case(world)
    _record(world, case, granted_categories=["contact"], refused_categories=["medical"])
    _record(world, case, receiving_agency=None, receiving_sector="health", granted_categories=["medical", "education"],
            refused_categories=[])
    with pytest.raises(ValidationError):  # a handoff cannot ask for what was refused either
        refer(world, case, categories=["medical"], accept=False)
    refer(world, case, categories=["contact", "education"])
    access = access_for(world.receiving_responder, case)
    assert "medical" not in access.categories
    assert access.categories == {"contact", "education"}


def test_a_sector_consent_alone_shares_nothing(world):
    case = open_case(world)
    _record(world, case, receiving_agency=None, receiving_sector="health", refused_categories=[])
    with pytest.raises(NotFound):
        access_for(world.receiving_responder, case)


def test_withdrawing_the_refusal_allows_a_new_grant(world):
    case = open_case(world)
    refusal = _record(world, case, granted_categories=["contact"], refused_categories=["medical"])
    consent_withdraw(access=access_for(world.lead_responder, case), actor=world.lead_responder,
                     consent_id=refusal.pk, reason="")
    _record(world, case, granted_categories=["medical"], refused_categories=[])
    refer(world, case, categories=["medical"])
    assert access_for(world.receiving_responder, case).categories == {"medical"}


def test_withdrawal_takes_effect_at_the_next_access(world):
    case = open_case(world, consent=consent_data(world))
    refer(world, case)
    consent = Consent.objects.get(case=case)
    assert access_for(world.receiving_responder, case).sees("medical")
    assert case_list_visible_to(user=world.receiving_responder).filter(pk=case.pk).exists()

    withdrawn = consent_withdraw(access=access_for(world.lead_responder, case), actor=world.lead_supervisor,
                                 consent_id=consent.pk, reason="Người bị hại đổi ý")
    assert withdrawn.withdrawn_at is not None and withdrawn.withdrawn_by == world.lead_supervisor
    with pytest.raises(NotFound):
        access_for(world.receiving_responder, case)
    assert not case_list_visible_to(user=world.receiving_responder).filter(pk=case.pk).exists()
    event = AuditEvent.objects.filter(case_id=case.pk).latest("seq")
    # The event points at the consent; its withdrawal reason is sealed there, never in the trail.
    assert (event.action, event.reason, event.categories, event.target) == (
        "revoke", "", ["medical"], f"consent:{consent.pk}")
    assert type(withdrawn).objects.get(pk=consent.pk).withdrawal_reason == "Người bị hại đổi ý"
    assert CaseEvent.objects.filter(case=case, type="consent_withdrawn").count() == 1


def test_withdrawal_errors(world):
    case = open_case(world, consent=consent_data(world))
    other = open_case(world, consent=consent_data(world))
    consent = Consent.objects.get(case=case)
    lead = access_for(world.lead_responder, case)
    for bad_id in (Consent.objects.get(case=other).pk, 999999, "1", None, True):
        with pytest.raises(NotFound):
            consent_withdraw(access=lead, actor=world.lead_responder, consent_id=bad_id, reason="")
    with refused_writing_nothing("reason"):
        consent_withdraw(access=lead, actor=world.lead_responder, consent_id=consent.pk,
                         **through_edge(ConsentWithdrawInputSerializer, {"reason": "r" * 301}))
    consent_withdraw(access=lead, actor=world.lead_responder, consent_id=consent.pk, reason="")
    with refused_writing_nothing("consent_id"):
        consent_withdraw(access=lead, actor=world.lead_responder, consent_id=consent.pk, reason="")


def test_only_holders_of_manage_sharing_record_or_withdraw(world):
    case = open_case(world, consent=consent_data(world))
    refer(world, case)
    receiving = access_for(world.receiving_responder, case)
    before = row_counts()
    with pytest.raises(PermissionDenied):
        consent_record_through_edge(access=receiving, actor=world.receiving_responder,
                       data=consent_data(world, receiving_agency=world.school))
    with pytest.raises(PermissionDenied):
        consent_withdraw(access=receiving, actor=world.receiving_responder,
                         consent_id=Consent.objects.get(case=case).pk, reason="")
    assert row_counts() == before


def test_expiry_ends_access_without_a_sweep(world, time_machine):
    case = open_case(world)
    expires_at = timezone.now() + datetime.timedelta(hours=1)
    _record(world, case, expires_at=expires_at.isoformat())
    refer(world, case)
    rows = CaseAccessRow.objects.filter(case=case, agency=world.health)
    assert rows.exists() and all(row.valid_until == expires_at for row in rows)
    assert access_for(world.receiving_responder, case).sees("medical")

    later = expires_at + datetime.timedelta(seconds=1)
    time_machine.move_to(later, tick=False)
    with pytest.raises(NotFound):
        access_for(world.receiving_responder, case)


def test_an_expired_consent_cannot_be_withdrawn_again(world, time_machine):
    case = open_case(world)
    expires_at = timezone.now() + datetime.timedelta(hours=1)
    consent = _record(world, case, expires_at=expires_at)
    time_machine.move_to(expires_at + datetime.timedelta(minutes=1), tick=False)
    with pytest.raises(ValidationError) as excinfo:
        consent_withdraw(access=access_for(world.lead_responder, case), actor=world.lead_responder,
                         consent_id=consent.pk, reason="")
    assert "consent_id" in excinfo.value.message_dict
