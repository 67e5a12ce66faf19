"""Issue 11 part 5: the agency admin gives or takes the break-glass right with a checkbox on the
staff page, audited; only to responders and supervisors of their agency; and the right goes when the
person no longer works on cases."""

import pytest
from django.urls import reverse

from agencies.models import Membership
from audit.models import AuditEvent
from permissions.breakglass import break_glass_allowed


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.lead_admin)
    return client


def url(world, user):
    membership = Membership.objects.get(user=user, agency=world.police)
    return reverse("agencies:staff_break_glass", args=[world.police.pk, membership.pk]), f"bg{membership.pk}"


def fresh(user):
    return type(user).objects.get(pk=user.pk)


def test_checkbox_grants_and_takes_the_right_audited(admin_client, world):
    path, prefix = url(world, world.lead_responder)
    assert not break_glass_allowed(user=fresh(world.lead_responder))
    assert admin_client.post(path, {f"{prefix}-break_glass": "on"}).status_code == 302
    assert break_glass_allowed(user=fresh(world.lead_responder))
    page = admin_client.get(reverse("agencies:staff", args=[world.police.pk])).content.decode()
    assert f'name="{prefix}-break_glass" id="id_{prefix}-break_glass" checked' in page
    granted = AuditEvent.objects.get(action="share", target=f"user:{world.lead_responder.pk}")
    assert granted.actor == world.lead_admin and granted.details == {
        "right": "permissions.break_glass", "granted": True}

    assert admin_client.post(path, {}).status_code == 302
    assert not break_glass_allowed(user=fresh(world.lead_responder))
    assert AuditEvent.objects.filter(action="revoke", target=f"user:{world.lead_responder.pk}").count() == 1
    # Saving without a change records nothing.
    admin_client.post(path, {})
    assert AuditEvent.objects.filter(target=f"user:{world.lead_responder.pk}").count() == 2


def test_not_for_agency_admins(admin_client, world):
    path, prefix = url(world, world.lead_admin)
    admin_client.post(path, {f"{prefix}-break_glass": "on"})
    assert not break_glass_allowed(user=fresh(world.lead_admin))


@pytest.mark.parametrize("who", ["lead_responder", "lead_supervisor", "receiving_supervisor", "analyst", None])
def test_refused_to_anyone_but_the_agency_admin(client, world, who):
    path, prefix = url(world, world.lead_responder)
    if who:
        client.force_login(getattr(world, who))
    response = client.post(path, {f"{prefix}-break_glass": "on"})
    assert response.status_code == (403 if who else 302)
    assert not break_glass_allowed(user=fresh(world.lead_responder))


def test_an_admin_of_another_agency_gets_not_found(client, world):
    from tests.conftest import make_user

    other = make_user("health.admin")
    Membership.objects.create(user=other, agency=world.health, role="agency_admin")
    client.force_login(other)
    path, prefix = url(world, world.lead_responder)
    assert client.post(path, {f"{prefix}-break_glass": "on"}).status_code == 404


def test_removing_the_person_takes_the_right(admin_client, world):
    path, prefix = url(world, world.lead_responder)
    admin_client.post(path, {f"{prefix}-break_glass": "on"})
    membership = Membership.objects.get(user=world.lead_responder, agency=world.police)
    admin_client.post(reverse("agencies:staff_remove", args=[world.police.pk, membership.pk]))
    assert not break_glass_allowed(user=fresh(world.lead_responder))
