"""Who sees which case, and which categories of it, through the one selector every view uses."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from agencies.acting import acting_for
from agencies.services import membership_add, membership_remove
from cases.models import CaseAccessRow
from cases.selectors import case_get_for_user, case_list_visible_to
from cases.sharing import case_permissions_sync
from config.exceptions import NotFound
from handoffs.models import HandoffKind, HandoffStatus
from permissions.categories import DataCategory
from permissions.policy import LEAD_RIGHTS, RECEIVING_RIGHTS
from tests.conftest import make_user

from .conftest import bare_case, consent, handoff, share

ALL = frozenset(DataCategory.values)


def visible(user):
    return set(case_list_visible_to(user=user).values_list("number", flat=True))


def test_lead_agency_responder_and_supervisor_see_everything(world, case):
    for user in (world.lead_responder, world.lead_supervisor):
        access = case_get_for_user(user=user, case_id=case.pk)
        assert access.categories == ALL
        assert access.agency == world.police
        assert visible(user) == {case.number}


@pytest.mark.parametrize(
    "who", ["lead_admin", "receiving_responder", "outsider_responder", "outsider_supervisor", "analyst", "sysadmin"]
)
def test_nobody_else_sees_an_unshared_case(world, case, who):
    user = getattr(world, who)
    assert visible(user) == set()
    with pytest.raises(NotFound):
        case_get_for_user(user=user, case_id=case.pk)


def test_anonymous_sees_nothing(world, case):
    assert visible(AnonymousUser()) == set()
    with pytest.raises(NotFound):
        case_get_for_user(user=AnonymousUser(), case_id=case.pk)


def test_unknown_and_unshared_cases_look_the_same(world, case):
    with pytest.raises(NotFound):
        case_get_for_user(user=world.outsider_responder, case_id=case.pk)
    with pytest.raises(NotFound):
        case_get_for_user(user=world.outsider_responder, case_id=case.pk + 1000)
    with pytest.raises(NotFound):
        case_get_for_user(user=world.lead_responder, case_id="not-a-number")


def test_consent_shares_exactly_its_categories(world, case):
    share(world, case, agency=world.health, granted=[DataCategory.MEDICAL])
    access = case_get_for_user(user=world.receiving_responder, case_id=case.pk)
    assert access.categories == {DataCategory.MEDICAL}
    assert access.rights == {"view_case", "log_action"}
    assert access.agency == world.health
    assert visible(world.receiving_supervisor) == {case.number}
    assert visible(world.outsider_responder) == set()


def test_missing_right_is_forbidden_not_hidden(world, case):
    share(world, case, agency=world.health, granted=[DataCategory.MEDICAL])
    with pytest.raises(PermissionDenied):
        case_get_for_user(user=world.receiving_responder, case_id=case.pk, require="manage_sharing")


def test_withdrawal_takes_effect_on_the_next_read(world, case):
    consent = share(world, case, agency=world.health, granted=[DataCategory.MEDICAL])
    assert visible(world.receiving_responder) == {case.number}
    consent.withdrawn_at = timezone.now()
    consent.save(update_fields=["withdrawn_at"])
    case_permissions_sync(case=case)
    assert visible(world.receiving_responder) == set()
    with pytest.raises(NotFound):
        case_get_for_user(user=world.receiving_responder, case_id=case.pk)


def test_expiry_ends_access_without_any_sweep(world, case):
    share(world, case, agency=world.health, granted=[DataCategory.MEDICAL],
          expires_at=timezone.now() + datetime.timedelta(hours=1))
    assert visible(world.receiving_responder) == {case.number}
    # Time passes; nothing is re-synced.
    past = timezone.now() - datetime.timedelta(seconds=1)
    # The rows reads use: the receiving agency holds the case by that consent only.
    assert CaseAccessRow.objects.filter(case=case, agency=world.health).update(valid_until=past) == 1
    assert visible(world.receiving_responder) == set()
    with pytest.raises(NotFound):
        case_get_for_user(user=world.receiving_responder, case_id=case.pk)


def test_refused_category_is_not_implied_by_a_sector_consent(world, case, sector):
    consent(world, case, agency=world.health, granted=[DataCategory.MEDICAL], refused=[DataCategory.PSYCHOSOCIAL])
    consent(world, case, sector=sector.HEALTH, granted=[DataCategory.PSYCHOSOCIAL])
    handoff(world, case, to=world.health, categories=[DataCategory.MEDICAL, DataCategory.PSYCHOSOCIAL])
    access = case_get_for_user(user=world.receiving_responder, case_id=case.pk)
    assert access.categories == {DataCategory.MEDICAL}


def test_a_sector_consent_covers_an_accepted_handoff_to_an_agency_of_that_sector(world, case, sector):
    consent(world, case, sector=sector.HEALTH, granted=[DataCategory.MEDICAL])
    handoff(world, case, to=world.health, categories=[DataCategory.MEDICAL])
    assert case_get_for_user(user=world.receiving_responder, case_id=case.pk).categories == {DataCategory.MEDICAL}


def test_refused_category_is_not_implied_by_an_emergency_override(world, case):
    consent(world, case, agency=world.health, refused=[DataCategory.IDENTITY])
    handoff(world, case, to=world.health, categories=[DataCategory.IDENTITY, DataCategory.MEDICAL],
            override_reason="Nguy hiểm đến tính mạng")
    access = case_get_for_user(user=world.receiving_responder, case_id=case.pk)
    assert access.categories == {DataCategory.MEDICAL}


def test_an_emergency_override_shares_without_consent(world, case):
    handoff(world, case, to=world.health, categories=[DataCategory.MEDICAL], override_reason="Nguy hiểm")
    access = case_get_for_user(user=world.receiving_responder, case_id=case.pk)
    assert access.categories == {DataCategory.MEDICAL}
    assert access.rights == {"view_case", "log_action"}


def test_consent_alone_shares_nothing(world, case):
    consent(world, case, agency=world.health, granted=[DataCategory.MEDICAL])
    assert visible(world.receiving_responder) == set()


@pytest.mark.parametrize("status", [HandoffStatus.SENT, HandoffStatus.DECLINED, HandoffStatus.WITHDRAWN])
def test_a_handoff_that_is_not_accepted_shares_nothing(world, case, status):
    consent(world, case, agency=world.health, granted=[DataCategory.MEDICAL])
    handoff(world, case, to=world.health, categories=[DataCategory.MEDICAL], status=status)
    assert visible(world.receiving_responder) == set()


def test_acceptance_shares_only_the_requested_categories_within_consent(world, case):
    consent(world, case, agency=world.health, granted=[DataCategory.MEDICAL, DataCategory.PSYCHOSOCIAL])
    handoff(world, case, to=world.health, categories=[DataCategory.MEDICAL, DataCategory.IDENTITY])
    assert case_get_for_user(user=world.receiving_responder, case_id=case.pk).categories == {DataCategory.MEDICAL}


def test_completion_keeps_the_case_facts_and_takes_the_categories_away(world, case):
    consent(world, case, agency=world.health, granted=[DataCategory.MEDICAL])
    record = handoff(world, case, to=world.health, categories=[DataCategory.MEDICAL])
    record.status = HandoffStatus.COMPLETED
    record.save(update_fields=["status"])
    case_permissions_sync(case=case)
    access = case_get_for_user(user=world.receiving_responder, case_id=case.pk)
    assert access.categories == frozenset()
    assert access.rights == {"view_case"}


def test_an_accepted_transfer_moves_the_lead_and_the_former_lead_keeps_working(world, case):
    consent(world, case, agency=world.health, granted=[DataCategory.MEDICAL])
    handoff(world, case, to=world.health, categories=[DataCategory.MEDICAL], kind=HandoffKind.TRANSFER)
    new_lead = case_get_for_user(user=world.receiving_supervisor, case_id=case.pk)
    assert new_lead.categories == ALL
    assert new_lead.can("manage_sharing")
    former = case_get_for_user(user=world.lead_responder, case_id=case.pk)
    assert former.rights == {"view_case", "log_action"}
    assert former.categories == ALL


def test_leaving_the_agency_ends_access_at_once(world, case):
    membership_remove(user=world.lead_responder, agency=world.police)
    assert visible(world.lead_responder) == set()


def test_inactive_agency_loses_access(world, case):
    world.police.active = False
    world.police.save(update_fields=["active"])
    assert visible(world.lead_supervisor) == set()


def test_user_in_two_agencies_reads_the_union_and_acts_for_the_agency_chosen(world, case):
    share(world, case, agency=world.health, granted=[DataCategory.MEDICAL])
    membership_add(user=world.receiving_responder, agency=world.police, role="responder")
    access = case_get_for_user(user=world.receiving_responder, case_id=case.pk)
    assert access.agency is None and access.must_choose_agency
    assert access.categories == ALL
    for agency, rights in [(world.police, LEAD_RIGHTS), (world.health, RECEIVING_RIGHTS)]:
        with acting_for(agency.pk):
            access = case_get_for_user(user=world.receiving_responder, case_id=case.pk)
        assert access.agency == agency and not access.must_choose_agency
        assert access.rights == rights
        assert access.categories == ALL


def test_permission_rows_grow_with_agencies_not_users(world, case):
    before = CaseAccessRow.objects.filter(case=case).count()
    for i in range(5):

        membership_add(user=make_user(f"extra{i}"), agency=world.police, role="responder")
    case_permissions_sync(case=case)
    assert CaseAccessRow.objects.filter(case=case).count() == before


def test_list_is_two_queries_whatever_the_number_of_cases(world, django_assert_num_queries):
    """One query for the user's holders (agencies, own break-glass rows), one for the page."""
    for i in range(2, 30):
        bare_case(world, number=f"HN-2026-{i:06d}")
    with django_assert_num_queries(2):
        cases = list(case_list_visible_to(user=world.lead_responder))
        [c.lead_agency.name for c in cases]
    assert len(cases) == 28


def test_detail_access_takes_one_query_on_postgresql(world, case, django_assert_num_queries):
    # The case and the reader's access rows: one statement on PostgreSQL (issue 15), two elsewhere.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        case_get_for_user(user=world.lead_responder, case_id=case.pk)


def test_sync_is_idempotent(world, case):
    share(world, case, agency=world.health, granted=[DataCategory.MEDICAL])
    rows = set(CaseAccessRow.objects.filter(case=case).values_list("pk", flat=True))
    case_permissions_sync(case=case)
    assert set(CaseAccessRow.objects.filter(case=case).values_list("pk", flat=True)) == rows
