"""Writes for agencies and memberships. Group membership is derived from Membership rows here and
nowhere else, so that object permissions granted to agency groups always reach the right people."""

from django.contrib.auth.models import Group
from django.db import transaction

from .models import Agency, AgencyGroup, Membership, Role


def agency_group_name(*, agency: Agency, role: str) -> str:
    return f"agency:{agency.pk}:{role}"


@transaction.atomic
def agency_groups_ensure(*, agency: Agency) -> dict[str, Group]:
    """Create (or find) the auth group of every role of the agency."""
    groups: dict[str, Group] = {}
    existing = {ag.role: ag.group for ag in AgencyGroup.objects.filter(agency=agency).select_related("group")}
    for role in Role.values:
        if role in existing:
            groups[role] = existing[role]
            continue
        group, _ = Group.objects.get_or_create(name=agency_group_name(agency=agency, role=role))
        AgencyGroup.objects.create(agency=agency, role=role, group=group)
        groups[role] = group
    return groups


@transaction.atomic
def agency_create(*, name: str, sector: str, province, commune=None, parent=None, active: bool = True) -> Agency:
    agency = Agency(name=name, sector=sector, province=province, commune=commune, parent=parent, active=active)
    agency.full_clean()
    agency.save()
    agency_groups_ensure(agency=agency)
    return agency


def _group_for(*, agency: Agency, role: str) -> Group:
    return agency_groups_ensure(agency=agency)[role]


@transaction.atomic
def membership_add(*, user, agency: Agency, role: str) -> Membership:
    """Give the user a role in the agency, or change the role they already have there."""
    if role not in Role.values:
        raise ValueError(f"Unknown role {role!r}")
    membership = Membership.objects.select_for_update().filter(user=user, agency=agency).first()
    if membership is None:
        membership = Membership.objects.create(user=user, agency=agency, role=role)
    elif membership.role != role:
        user.groups.remove(_group_for(agency=agency, role=membership.role))
        membership.role = role
        membership.save(update_fields=["role"])
    user.groups.add(_group_for(agency=agency, role=role))
    return membership


def membership_change_role(*, membership: Membership, role: str) -> Membership:
    return membership_add(user=membership.user, agency=membership.agency, role=role)


@transaction.atomic
def membership_remove(*, user, agency: Agency) -> None:
    """Take the user out of the agency: the membership and every group of that agency."""
    Membership.objects.filter(user=user, agency=agency).delete()
    user.groups.remove(*Group.objects.filter(agency_group__agency=agency))
