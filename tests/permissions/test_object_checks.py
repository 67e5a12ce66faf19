"""Object checks on cases (`user.has_perm(perm, case)`, guardian's checker methods) answer from the
access rows, since guardian's object-permission rows are no longer written (issue 15). The oracle
test (test_oracle.py) checks them against the rules on random worlds; these are the plain cases."""

import datetime

import pytest
from django.utils import timezone

from cases.models import CaseGroupObjectPermission, CaseUserObjectPermission
from cases.permission_backend import CaseAccessChecker
from permissions.categories import DataCategory

from .conftest import bare_case, share

pytestmark = pytest.mark.django_db


def test_the_lead_and_a_receiver_hold_what_the_rules_give(world, case):
    assert world.lead_responder.has_perm("cases.view_case", case)
    assert world.lead_responder.has_perm("cases.view_identity", case)
    assert world.lead_responder.has_perm("cases.manage_sharing", case)
    assert not world.receiving_responder.has_perm("cases.view_case", case)
    share(world, case, agency=world.health, granted=[DataCategory.MEDICAL])
    receiver = type(world.receiving_responder).objects.get(pk=world.receiving_responder.pk)
    assert receiver.has_perm("cases.view_case", case) and receiver.has_perm("cases.view_medical", case)
    assert not receiver.has_perm("cases.view_identity", case)
    assert not receiver.has_perm("cases.manage_sharing", case)
    assert "cases.view_medical" in receiver.get_all_permissions(case)
    # Nothing of it is a guardian row any more.
    assert not CaseGroupObjectPermission.objects.exists() and not CaseUserObjectPermission.objects.exists()


def test_an_ended_consent_ends_the_object_check_too(world, case, time_machine):
    share(world, case, agency=world.health, granted=[DataCategory.MEDICAL],
          expires_at=timezone.now() + datetime.timedelta(hours=1))
    assert world.receiving_responder.has_perm("cases.view_medical", case)
    time_machine.move_to(timezone.now() + datetime.timedelta(hours=1, seconds=1), tick=False)
    receiver = type(world.receiving_responder).objects.get(pk=world.receiving_responder.pk)
    assert not receiver.has_perm("cases.view_case", case)


@pytest.mark.parametrize("who", ["analyst", "lead_admin", "outsider_responder"])
def test_those_who_never_read_the_case_hold_nothing_on_it(world, case, who):
    user = getattr(world, who)
    assert not user.has_perm("cases.view_case", case)
    assert CaseAccessChecker(user).get_perms(case) == []


def test_permissions_without_an_object_are_unchanged(world, case):
    assert not world.lead_responder.has_perm("cases.view_case")
    assert not world.lead_responder.has_perm("cases.view_case", world.police)


def test_the_checker_reads_many_cases_in_one_query(world, django_assert_num_queries):
    cases = [bare_case(world, number=f"HN-2026-{i:06d}") for i in range(1, 6)]
    other = bare_case(world, number="HN-2026-000099", lead=world.health)
    checker = CaseAccessChecker(world.lead_responder)
    with django_assert_num_queries(1):
        checker.prefetch_perms([*cases, other])
    with django_assert_num_queries(0):
        assert all(checker.has_perm("cases.view_case", c) and checker.has_perm("change_case", c) for c in cases)
        assert checker.get_perms(other) == []
        assert not checker.has_perm("auth.view_case", cases[0])


def test_an_inactive_account_holds_nothing_on_the_case(world, case):
    """As Django's own backend: a deactivated account answers no to every object check."""
    assert world.lead_responder.has_perm("cases.view_case", case)
    world.lead_responder.is_active = False
    world.lead_responder.save(update_fields=["is_active"])
    assert not world.lead_responder.has_perm("cases.view_case", case)
    assert world.lead_responder.get_all_permissions(case) == set()
