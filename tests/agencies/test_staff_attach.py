"""Issue 11 part 5: an agency admin attaches only accounts that work nowhere else, or that a system
administrator released to their agency; the superuser and staff accounts never; and the form gives
one answer whatever the reason, so it tells nobody which usernames exist."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from agencies.models import AccountRelease, Membership
from agencies.services import account_release
from audit.models import AuditEvent
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("english_pages")


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.lead_admin)
    return client


def attach(client, world, username, role="responder"):
    return client.post(reverse("agencies:staff_add_existing", args=[world.police.pk]),
                       {"existing-username": username, "existing-role": role})


def test_an_account_working_nowhere_is_attached_and_audited(admin_client, world):
    free = make_user("free.person")
    response = attach(admin_client, world, "free.person")
    assert response.status_code == 302
    assert Membership.objects.filter(user=free, agency=world.police, role="responder").exists()
    event = AuditEvent.objects.get(action="change", target=f"user:{free.pk}")
    assert event.actor == world.lead_admin and event.details["membership"] == "attached"


def refusal(response) -> str:
    assert response.status_code == 400
    return response.content.decode().split('id="id_existing-username_error"', 1)[1].split("</ul>", 1)[0]


def test_one_answer_for_unknown_taken_superuser_staff_and_inactive(admin_client, world):
    staff = make_user("django.staff", is_staff=True)
    inactive = make_user("gone.person", is_active=False)
    answers = {
        username: refusal(attach(admin_client, world, username))
        for username in ["no.such.person", "outsider_responder", "receiving_supervisor", "analyst", "sysadmin",
                         staff.username, inactive.username]
    }
    assert len(set(answers.values())) == 1, answers
    assert "This account cannot be added to your agency." in answers["sysadmin"]
    assert not Membership.objects.filter(agency=world.police).exclude(
        user__username__in=["lead_admin", "lead_responder", "lead_supervisor"]).exists()


def test_a_release_by_the_system_administrator_lets_one_agency_attach_once(admin_client, client, world):
    release = account_release(user=world.outsider_responder, agency=world.police, reason="Điều chuyển công tác",
                              actor=world.sysadmin)
    assert AuditEvent.objects.filter(action="share", target=f"user:{world.outsider_responder.pk}",
                                     actor=world.sysadmin).exists()
    # Released to the police, not to the health agency.
    health_admin = make_user("health.admin")
    Membership.objects.create(user=health_admin, agency=world.health, role="agency_admin")
    from django.test import Client

    other = Client()
    other.force_login(health_admin)
    refused = other.post(reverse("agencies:staff_add_existing", args=[world.health.pk]),
                         {"existing-username": "outsider_responder", "existing-role": "responder"})
    assert refused.status_code == 400
    assert attach(admin_client, world, "outsider_responder").status_code == 302
    assert not AccountRelease.objects.filter(pk=release.pk).exists()


def test_the_superuser_cannot_be_released_either(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        account_release(user=world.sysadmin, agency=world.police, reason="x", actor=world.sysadmin)


def test_the_release_admin_page_refuses_the_superuser(client, world):
    client.force_login(world.sysadmin)
    response = client.post("/admin/agencies/accountrelease/add/", {
        "user": world.sysadmin.pk, "agency": world.police.pk, "reason": "Điều chuyển",
    })
    assert response.status_code == 200 and not AccountRelease.objects.exists()
    created = client.post("/admin/agencies/accountrelease/add/", {
        "user": world.outsider_responder.pk, "agency": world.police.pk, "reason": "Điều chuyển công tác",
    })
    assert created.status_code == 302
    release = AccountRelease.objects.get()
    assert release.released_by == world.sysadmin
    assert AuditEvent.objects.filter(action="share", actor=world.sysadmin).count() == 1
    assert get_user_model().objects.filter(pk=world.outsider_responder.pk).exists()
