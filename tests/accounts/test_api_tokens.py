"""API tokens (django-rest-knox): expiring, one per sign-in, listed and revoked by their owner, all
revoked on password change, deactivation and loss of a role, and never shown in Django admin."""

import json
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from accounts.mfa import mfa_needed_for
from agencies.models import AnalystScope
from agencies.services import membership_add, staff_change_role, staff_remove
from audit.models import AuditEvent
from tests.conftest import PASSWORD, authenticator_for, current_code

NEW_PASSWORD = "a-new-long-passphrase-2026"

TOKEN_URL = "/api/auth/token/"


def request_token(username, password=PASSWORD, **extra):
    payload = {"username": username, "password": password, **extra}
    return Client().post(TOKEN_URL, json.dumps(payload), content_type="application/json")


def obtain(username, password=PASSWORD) -> str:
    """A token as the person's app gets it: with the code of their authenticator where one is needed."""
    user = get_user_model().objects.get(username=username)
    extra = {"otp": current_code(authenticator_for(user))} if mfa_needed_for(user) else {}
    response = request_token(username, password, **extra)
    assert response.status_code == 200, response.content
    return response.json()["token"]


def me(token):
    return Client().get("/api/me/", HTTP_AUTHORIZATION=f"Token {token}")


def works(token) -> bool:
    return me(token).status_code == 200


def test_token_expires_after_the_configured_hours_however_much_it_is_used(world):
    assert settings.API_TOKEN_HOURS == 8
    before = timezone.now()
    token = obtain("lead_responder")
    stored = AuthToken.objects.get(user=world.lead_responder)
    assert before + timedelta(hours=8) <= stored.expiry <= timezone.now() + timedelta(hours=8)
    assert works(token)
    # Not sliding: use does not move the expiry.
    assert AuthToken.objects.get(pk=stored.pk).expiry == stored.expiry
    AuthToken.objects.filter(pk=stored.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    response = me(token)
    assert response.status_code in (401, 403)
    assert "lead_responder" not in response.content.decode()
    assert not AuthToken.objects.filter(pk=stored.pk).exists()


def test_expired_tokens_are_not_listed_and_are_cleared_at_the_next_sign_in(world):
    old = obtain("lead_responder")
    AuthToken.objects.filter(token_key=old[:15]).update(expiry=timezone.now() - timedelta(minutes=1))
    new = obtain("lead_responder")
    listed = Client().get("/api/auth/tokens/", HTTP_AUTHORIZATION=f"Token {new}").json()
    assert [t["id"] for t in listed] == [new[:15]]
    assert not AuthToken.objects.filter(token_key=old[:15]).exists()


def test_revoking_a_token_that_is_not_a_key_answers_not_found(world, web, api):
    """A NUL byte in the path's key reached the database, which PostgreSQL refuses in text: a 500."""
    assert api(world.lead_responder).delete("/api/auth/tokens/ab%00cd/").status_code == 404
    response = web(world.lead_responder).post("/account/tokens/ab%00cd/revoke/")
    assert response.status_code < 500


def test_password_change_on_the_page_revokes_every_token(world):
    tokens = [obtain("lead_responder"), obtain("lead_responder")]
    other = obtain("lead_supervisor")
    client = Client()
    client.force_login(world.lead_responder)
    response = client.post("/password/", {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })
    assert response.status_code == 302
    assert not any(works(token) for token in tokens)
    assert works(other)
    event = AuditEvent.objects.get(action="revoke", target=f"user:{world.lead_responder.pk}")
    assert event.details == {"api_tokens_revoked": 2, "because": "password_changed"}


def test_password_set_anywhere_else_revokes_too(world):
    token = obtain("lead_responder")
    world.lead_responder.set_password("set-by-an-administrator-2026")
    world.lead_responder.save()
    assert not works(token)


def test_saving_the_user_without_a_password_change_keeps_tokens(world):
    token = obtain("lead_responder")
    world.lead_responder.first_name = "Nguyễn Văn A"
    world.lead_responder.save()
    assert works(token)


def test_deactivation_revokes_every_token(world):
    token = obtain("lead_responder")
    world.lead_responder.is_active = False
    world.lead_responder.save(update_fields=["is_active"])
    assert not AuthToken.objects.filter(user=world.lead_responder).exists()
    assert not works(token)


@pytest.mark.parametrize("change", ["removed", "role_changed", "other_agency_removed"])
def test_losing_a_role_revokes_every_token(world, change):
    membership_add(user=world.lead_responder, agency=world.health, role="responder")
    token = obtain("lead_responder")
    police = world.lead_responder.memberships.get(agency=world.police)
    if change == "removed":
        staff_remove(membership=police)
    elif change == "role_changed":
        staff_change_role(membership=police, role="supervisor")
    else:
        staff_remove(membership=world.lead_responder.memberships.get(agency=world.health))
    assert not works(token)
    assert works(obtain("lead_supervisor"))


def test_losing_an_analyst_scope_or_the_superuser_flag_revokes(world):
    analyst_token, _admin_token = obtain("analyst"), obtain("sysadmin")
    AnalystScope.objects.filter(user=world.analyst).delete()
    world.sysadmin.is_superuser = False
    world.sysadmin.save()
    assert not AuthToken.objects.filter(user__in=[world.analyst, world.sysadmin]).exists()
    assert not works(analyst_token)


def test_owner_lists_and_revokes_their_tokens_and_nobody_elses(world):
    first, second = obtain("lead_responder"), obtain("lead_responder")
    someone_else = obtain("receiving_responder")
    client = Client(HTTP_AUTHORIZATION=f"Token {first}")
    listed = client.get("/api/auth/tokens/").json()
    assert {t["id"] for t in listed} == {first[:15], second[:15]}
    assert [t["current"] for t in listed if t["id"] == first[:15]] == [True]
    assert all(set(t) == {"id", "created", "expiry", "current"} for t in listed)
    body = json.dumps(listed)
    assert first not in body and second not in body
    # Someone else's token: refused as if it did not exist, and it keeps working.
    assert client.delete(f"/api/auth/tokens/{someone_else[:15]}/").status_code == 404
    assert works(someone_else)
    assert client.delete(f"/api/auth/tokens/{second[:15]}/").status_code == 204
    assert not works(second)
    assert works(first)
    assert AuditEvent.objects.filter(
        action="revoke", actor=world.lead_responder, details__api_token=second[:15]
    ).exists()


def test_logout_ends_the_current_token_only(world):
    current, other = obtain("lead_responder"), obtain("lead_responder")
    response = Client().post("/api/auth/logout/", HTTP_AUTHORIZATION=f"Token {current}")
    assert response.status_code == 204
    assert not works(current)
    assert works(other)


@pytest.mark.parametrize("path", ["/api/auth/tokens/", "/api/auth/logout/"])
def test_anonymous_is_refused(client, db, path):
    response = client.get(path) if path.endswith("tokens/") else client.post(path)
    assert response.status_code in (401, 403)


def test_tokens_are_never_shown_in_django_admin(world):
    token = obtain("lead_responder")
    admin = Client()
    admin.force_login(world.sysadmin)
    index = admin.get("/admin/")
    assert index.status_code == 200
    assert "authtoken" not in index.content.decode().lower()
    for path in ["/admin/knox/authtoken/", "/admin/knox/authtoken/add/", "/admin/authtoken/tokenproxy/",
                 "/admin/authtoken/token/"]:
        response = admin.get(path)
        assert response.status_code == 404, path
        assert token[:15] not in response.content.decode()
    assert "rest_framework.authtoken" not in settings.INSTALLED_APPS


# --- Second factor ---------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["lead_supervisor", "lead_admin", "analyst", "sysadmin"])
def test_roles_that_need_a_second_factor_get_no_token_without_the_code(world, username):
    authenticator_for(get_user_model().objects.get(username=username))
    response = request_token(username)
    assert response.status_code == 400
    assert set(response.json()) == {"otp"}
    assert response.json()["otp"][0]
    wrong = request_token(username, otp="000000")
    assert wrong.status_code == 400
    assert set(wrong.json()) == {"otp"}
    assert not AuthToken.objects.exists()
    assert works(obtain(username))


def test_a_person_who_must_use_one_but_has_not_enrolled_gets_no_token(world):
    response = request_token("lead_supervisor", otp="123456")
    assert response.status_code == 400
    assert set(response.json()) == {"otp"}
    assert not AuthToken.objects.exists()


def test_a_responder_needs_no_code(world):
    assert request_token("lead_responder").status_code == 200


def test_missing_or_wrong_codes_count_towards_the_lockout(world, settings):
    settings.LOGIN_LOCKOUT_USERNAME_FAILURES = 3
    device = authenticator_for(world.lead_supervisor)
    assert request_token("lead_supervisor").status_code == 400
    assert request_token("lead_supervisor", otp="000000").status_code == 400
    assert request_token("lead_supervisor").status_code == 429
    # Even the password with the right code is refused now.
    response = request_token("lead_supervisor", otp=current_code(device))
    assert response.status_code == 429
    assert "token" not in response.json()
    assert AccessAttempt.objects.get(username="lead_supervisor").failures_since_start >= 3
    assert AuditEvent.objects.filter(action="login_failed", details__username="lead_supervisor").count() >= 3
