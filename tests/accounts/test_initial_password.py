"""Issue 11 part 4: the one-time password an agency admin hands out expires after
INITIAL_PASSWORD_HOURS and must be changed at the first sign-in; until then nothing else is
reachable (pages redirect to the change form, the API answers 403 with the reason)."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import InitialPassword
from audit.models import AuditEvent

NEW = "a-long-and-new-passphrase-2026"


@pytest.fixture
def newcomer(client, world):
    """A responder created on the staff page by the police's agency admin: (username, password)."""
    client.force_login(world.lead_admin)
    response = client.post(f"/agencies/{world.police.pk}/staff/new/", {
        "new-username": "new.responder", "new-full_name": "Lê Thị Mới", "new-email": "moi@example.invalid",
        "new-role": "responder",
    })
    assert response.status_code == 200
    return "new.responder", response.context["password"]


def expire(username: str) -> None:
    """The initial password's time ran out a second ago."""
    expires_at = timezone.now() - datetime.timedelta(seconds=1)
    InitialPassword.objects.filter(user__username=username).update(
        issued_at=expires_at - datetime.timedelta(hours=72), expires_at=expires_at)


def sign_in(username, password) -> tuple[Client, object]:
    client = Client()
    return client, client.post("/login/", {"username": username, "password": password})


def test_the_staff_page_issues_a_password_that_expires_after_72_hours(newcomer, world, settings):
    assert settings.INITIAL_PASSWORD_HOURS == 72
    initial = InitialPassword.objects.get(user__username="new.responder")
    assert initial.expires_at - initial.issued_at == datetime.timedelta(hours=72)
    assert initial.issued_by == world.lead_admin
    event = AuditEvent.objects.get(action="create", target=f"user:{initial.user_id}")
    assert event.actor == world.lead_admin and event.agency_id == world.police.pk


def test_until_changed_every_page_leads_to_the_change_form_and_the_api_refuses(newcomer, world):
    client, response = sign_in(*newcomer)
    assert response.status_code == 302
    for path in ["/", "/work/", "/cases/", "/notifications/", f"/agencies/{world.police.pk}/staff/"]:
        page = client.get(path)
        assert page.status_code == 302 and page["Location"] == "/password/", path
    form = client.get("/password/")
    assert form.status_code == 200
    assert 'data-testid="password-change-required"' in form.content.decode()
    for path in ["/api/me/", "/api/cases/", "/api/notifications/"]:
        api = client.get(path)
        assert api.status_code == 403, path
        assert api.json()["code"] == "password_change_required"
    # The API cannot be reached with a token either: none is given for an initial password.
    token = APIClient().post("/api/auth/token/", {"username": newcomer[0], "password": newcomer[1]}, format="json")
    assert token.status_code == 403 and token.json()["code"] == "password_change_required"


def test_changing_it_opens_everything_and_is_audited(newcomer):
    client, _response = sign_in(*newcomer)
    changed = client.post("/password/", {"old_password": newcomer[1], "new_password1": NEW, "new_password2": NEW})
    assert changed.status_code == 302
    assert client.get("/work/").status_code == 200
    assert client.get("/api/me/").status_code == 200
    assert not InitialPassword.objects.filter(user__username=newcomer[0]).exists()
    event = AuditEvent.objects.filter(action="change", actor__username=newcomer[0]).get()
    assert event.details == {"password": "changed", "initial_password_replaced": True}
    # The next sign-in, with the person's own password, goes straight in.
    again, response = sign_in(newcomer[0], NEW)
    assert again.get(response["Location"], follow=True).redirect_chain[-1][0] == "/work/"


def test_an_expired_initial_password_cannot_sign_in_and_says_so(newcomer):
    expire(newcomer[0])
    client, response = sign_in(*newcomer)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Mật khẩu dùng một lần của bạn đã hết hạn" in response.content.decode()
    token = APIClient().post("/api/auth/token/", {"username": newcomer[0], "password": newcomer[1]}, format="json")
    assert token.status_code == 403 and token.json()["code"] == "initial_password_expired"
    # A wrong password still gets the one message that tells nothing.
    _client, wrong = sign_in(newcomer[0], "not-the-password-at-all")
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in wrong.content.decode()


def test_a_session_open_when_it_expires_ends(newcomer):
    client, _response = sign_in(*newcomer)
    expire(newcomer[0])
    # The session keeps the expiry it learned at sign-in; move it too.
    session = client.session
    session["password_change_due"] = (timezone.now() - datetime.timedelta(seconds=1)).timestamp()
    session.save()
    response = client.get("/work/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert "_auth_user_id" not in client.session


def test_people_with_their_own_password_are_not_stopped(client, world):
    client.force_login(world.lead_responder)
    assert client.get("/work/").status_code == 200


def reissue(client, world, username):
    from agencies.models import Membership

    membership = Membership.objects.get(user__username=username, agency=world.police)
    return client.post(f"/agencies/{world.police.pk}/staff/{membership.pk}/one-time-password/")


def test_the_agency_admin_gives_a_new_one_after_expiry(client, newcomer, world):
    expire(newcomer[0])
    response = reissue(client, world, newcomer[0])
    assert response.status_code == 200
    password = response.context["password"]
    assert password != newcomer[1]
    assert AuditEvent.objects.filter(action="change", actor=world.lead_admin,
                                     details__initial_password_reissued=True).count() == 1
    _client, old = sign_in(*newcomer)
    assert old.status_code == 200
    fresh, signed = sign_in(newcomer[0], password)
    assert signed.status_code == 302
    assert fresh.get("/work/")["Location"] == "/password/"


def test_no_new_one_for_someone_with_their_own_password_or_working_elsewhere(client, newcomer, world):
    from agencies.models import Membership

    client.force_login(world.lead_admin)
    response = reissue(client, world, "lead_responder")
    assert response.status_code == 302
    Membership.objects.create(user=world.lead_responder.__class__.objects.get(username=newcomer[0]),
                              agency=world.health, role="responder")
    assert reissue(client, world, newcomer[0]).status_code == 302
    assert not AuditEvent.objects.filter(details__initial_password_reissued=True).exists()
