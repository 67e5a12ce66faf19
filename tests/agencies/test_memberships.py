"""Membership services keep the agency-role groups (which carry object permissions) in step."""

import pytest
from django.core.exceptions import ValidationError

from agencies.models import AgencyGroup, Membership, Role
from agencies.services import (
    agency_group_name,
    membership_add,
    membership_change_role,
    membership_remove,
    staff_change_role,
    staff_create_person,
    staff_remove,
    user_create,
)
from tests.conftest import make_user


def group_names(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def test_agency_create_makes_one_group_per_role(world):
    groups = AgencyGroup.objects.filter(agency=world.police)
    assert sorted(groups.values_list("role", flat=True)) == sorted(Role.values)
    assert {g.group.name for g in groups} == {agency_group_name(agency=world.police, role=r) for r in Role.values}


def test_joining_puts_the_user_in_the_group_of_their_role(world):
    user = make_user("newcomer")
    membership_add(user=user, agency=world.police, role=Role.RESPONDER)
    assert group_names(user) == {agency_group_name(agency=world.police, role=Role.RESPONDER)}


def test_changing_role_swaps_the_group(world):
    membership = Membership.objects.get(user=world.lead_responder, agency=world.police)
    membership_change_role(membership=membership, role=Role.SUPERVISOR)
    assert group_names(world.lead_responder) == {agency_group_name(agency=world.police, role=Role.SUPERVISOR)}
    assert Membership.objects.get(pk=membership.pk).role == Role.SUPERVISOR


def test_adding_again_with_the_same_role_changes_nothing(world):
    membership_add(user=world.lead_responder, agency=world.police, role=Role.RESPONDER)
    assert Membership.objects.filter(user=world.lead_responder).count() == 1
    assert group_names(world.lead_responder) == {agency_group_name(agency=world.police, role=Role.RESPONDER)}


def test_leaving_takes_away_every_group_of_the_agency(world):
    membership_remove(user=world.lead_responder, agency=world.police)
    assert not Membership.objects.filter(user=world.lead_responder).exists()
    assert group_names(world.lead_responder) == set()


def test_a_user_in_two_agencies_keeps_the_other_agencys_group(world):
    user = world.lead_responder
    membership_add(user=user, agency=world.health, role=Role.SUPERVISOR)
    police_responder = agency_group_name(agency=world.police, role=Role.RESPONDER)
    health_supervisor = agency_group_name(agency=world.health, role=Role.SUPERVISOR)
    assert group_names(user) == {police_responder, health_supervisor}

    membership_change_role(membership=Membership.objects.get(user=user, agency=world.police), role=Role.SUPERVISOR)
    assert group_names(user) == {agency_group_name(agency=world.police, role=Role.SUPERVISOR), health_supervisor}

    membership_remove(user=user, agency=world.police)
    assert group_names(user) == {health_supervisor}
    assert list(Membership.objects.filter(user=user).values_list("agency", flat=True)) == [world.health.pk]


def test_an_unknown_role_is_refused(world):
    with pytest.raises(ValueError):
        membership_add(user=world.lead_responder, agency=world.health, role="boss")
    assert not Membership.objects.filter(user=world.lead_responder, agency=world.health).exists()


def test_the_last_agency_admin_can_be_neither_demoted_nor_removed(world):
    admin = Membership.objects.get(user=world.lead_admin, agency=world.police)
    with pytest.raises(ValidationError):
        staff_change_role(membership=admin, role=Role.RESPONDER)
    with pytest.raises(ValidationError):
        staff_remove(membership=admin)
    assert Membership.objects.get(pk=admin.pk).role == Role.AGENCY_ADMIN

    membership_add(user=world.lead_supervisor, agency=world.police, role=Role.AGENCY_ADMIN)
    staff_change_role(membership=admin, role=Role.RESPONDER)
    assert group_names(world.lead_admin) == {agency_group_name(agency=world.police, role=Role.RESPONDER)}
    staff_remove(membership=Membership.objects.get(pk=admin.pk))
    assert group_names(world.lead_admin) == set()


def test_staff_create_person_makes_a_user_who_can_sign_in_with_the_one_time_password(world):
    membership, password = staff_create_person(
        agency=world.police, username="nguyen.an", full_name="Nguyễn Văn An", email="an@example.invalid",
        role=Role.RESPONDER,
    )
    user = membership.user
    assert user.check_password(password)
    assert len(password) == 19 and password.count("-") == 3
    assert user.get_full_name() == "Nguyễn Văn An"
    assert group_names(user) == {agency_group_name(agency=world.police, role=Role.RESPONDER)}


def test_user_create_validates_the_username(db):
    with pytest.raises(ValidationError):
        user_create(username="has space", full_name="X", email="x@example.invalid")
