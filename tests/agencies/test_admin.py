"""Django admin for reference data and agencies: memberships saved inline keep the groups in step."""

import pytest
from django.urls import reverse

from agencies.models import Agency, AgencyGroup, Membership, Role
from agencies.services import agency_group_name


def group_names(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def agency_form(world, *, name="Trung tâm Công tác xã hội Hà Nội", rows=(), initial=0):
    data = {
        "name": name, "sector": "social_work", "province": world.hanoi.pk, "commune": "", "parent": "",
        "active": "on",
        "memberships-TOTAL_FORMS": str(len(rows)), "memberships-INITIAL_FORMS": str(initial),
        "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"memberships-{index}-{key}"] = value
    return data


@pytest.fixture
def sysadmin_client(client, world):
    client.force_login(world.sysadmin)
    return client


@pytest.mark.parametrize("model", ["province", "commune", "agency", "analystscope"])
def test_admin_pages_render_for_the_sysadmin(sysadmin_client, world, model):
    assert sysadmin_client.get(reverse(f"admin:agencies_{model}_changelist")).status_code == 200
    assert sysadmin_client.get(reverse(f"admin:agencies_{model}_add")).status_code == 200
    assert sysadmin_client.get(reverse("admin:agencies_agency_change", args=[world.police.pk])).status_code == 200


@pytest.mark.parametrize("who", ["lead_admin", "lead_supervisor", "analyst"])
def test_admin_refuses_people_who_are_not_staff(client, world, who):
    client.force_login(getattr(world, who))
    response = client.get(reverse("admin:agencies_agency_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_creating_an_agency_in_the_admin_creates_its_groups_and_members(sysadmin_client, world):
    response = sysadmin_client.post(reverse("admin:agencies_agency_add"), agency_form(world, rows=[
        {"user": world.lead_supervisor.pk, "role": "supervisor"},
    ]))
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    agency = Agency.objects.get(name="Trung tâm Công tác xã hội Hà Nội")
    assert sorted(AgencyGroup.objects.filter(agency=agency).values_list("role", flat=True)) == sorted(Role.values)
    assert group_names(world.lead_supervisor) == {
        agency_group_name(agency=world.police, role=Role.SUPERVISOR),
        agency_group_name(agency=agency, role=Role.SUPERVISOR),
    }


def test_the_admin_refuses_a_case_role_beside_an_agency_admin_role_with_a_form_error(sysadmin_client, world):
    """Issue 10: a supervisor elsewhere cannot also be an agency admin (nor the other way round)."""
    response = sysadmin_client.post(reverse("admin:agencies_agency_add"), agency_form(world, rows=[
        {"user": world.lead_supervisor.pk, "role": "agency_admin"},
    ]))
    assert response.status_code == 200
    assert not Agency.objects.filter(name="Trung tâm Công tác xã hội Hà Nội").exists()
    assert not Membership.objects.filter(user=world.lead_supervisor, role="agency_admin").exists()


def test_inline_role_change_user_swap_and_delete_go_through_the_services(sysadmin_client, world):
    police = world.police
    memberships = {m.user.username: m for m in Membership.objects.filter(agency=police).select_related("user")}
    rows = [
        {"id": memberships["lead_admin"].pk, "agency": police.pk, "user": world.lead_admin.pk, "role": "agency_admin"},
        {"id": memberships["lead_responder"].pk, "agency": police.pk, "user": world.lead_responder.pk,
         "role": "supervisor"},
        {"id": memberships["lead_supervisor"].pk, "agency": police.pk, "user": world.lead_supervisor.pk,
         "role": "supervisor", "DELETE": "on"},
        {"id": "", "agency": police.pk, "user": world.outsider_responder.pk, "role": "responder"},
    ]
    data = agency_form(world, name=police.name, rows=rows, initial=3) | {"sector": "police"}
    response = sysadmin_client.post(reverse("admin:agencies_agency_change", args=[police.pk]), data)
    assert response.status_code == 302
    assert group_names(world.lead_responder) == {agency_group_name(agency=police, role=Role.SUPERVISOR)}
    assert group_names(world.lead_supervisor) == set()
    assert group_names(world.outsider_responder) == {
        agency_group_name(agency=world.school, role=Role.RESPONDER),
        agency_group_name(agency=police, role=Role.RESPONDER),
    }
    assert sorted(Membership.objects.filter(agency=police).values_list("user__username", "role")) == [
        ("lead_admin", "agency_admin"), ("lead_responder", "supervisor"), ("outsider_responder", "responder"),
    ]

    # Putting another person on an existing row moves nobody's groups by accident.
    membership = Membership.objects.get(user=world.outsider_responder, agency=police)
    rows = [
        {"id": m.pk, "agency": police.pk, "user": m.user_id, "role": m.role}
        for m in Membership.objects.filter(agency=police).exclude(pk=membership.pk)
    ] + [{"id": membership.pk, "agency": police.pk, "user": world.receiving_supervisor.pk, "role": "responder"}]
    data = agency_form(world, name=police.name, rows=rows, initial=3) | {"sector": "police"}
    response = sysadmin_client.post(reverse("admin:agencies_agency_change", args=[police.pk]), data)
    assert response.status_code == 302
    assert group_names(world.outsider_responder) == {agency_group_name(agency=world.school, role=Role.RESPONDER)}
    assert agency_group_name(agency=police, role=Role.RESPONDER) in group_names(world.receiving_supervisor)
