"""Sign-in lockout (django-axes): after N failures per username, or M per client address, signing in is
refused even with the right password, on the page and the API alike, until the cool-off ends or an
agency admin / the system administrator lifts it (audited)."""

import json
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from tests.conftest import PASSWORD, make_user

WRONG = "not-the-password-at-all"
TOKEN_URL = "/api/auth/token/"


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.LOGIN_LOCKOUT_USERNAME_FAILURES = 3
    settings.LOGIN_LOCKOUT_IP_FAILURES = 5
    settings.LOGIN_LOCKOUT_MINUTES = 15


def sign_in(client, username, password=PASSWORD, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def obtain(client, username, password=PASSWORD, **extra):
    payload = json.dumps({"username": username, "password": password})
    return client.post(TOKEN_URL, payload, content_type="application/json", **extra)


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


def test_right_password_refused_after_n_failures_with_a_clear_vietnamese_message(client, world):
    for _ in range(2):
        assert sign_in(client, "lead_responder", WRONG).status_code == 200
    # The failure that reaches the limit is already answered with the pause.
    third = sign_in(client, "lead_responder", WRONG)
    assert third.status_code == 429
    response = sign_in(client, "lead_responder")
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 15 * 60
    assert not signed_in(client)
    body = response.content.decode()
    assert "Đăng nhập tạm dừng" in body
    assert "15 phút" in body


def test_lockout_message_in_english(client, world):
    for _ in range(3):
        sign_in(client, "lead_responder", WRONG, HTTP_ACCEPT_LANGUAGE="en")
    body = sign_in(client, "lead_responder", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Too many failed sign-in attempts" in body
    assert "15 minutes" in body


def test_below_the_limit_the_right_password_still_works(client, world):
    for _ in range(2):
        sign_in(client, "lead_responder", WRONG)
    assert sign_in(client, "lead_responder").status_code == 302
    assert signed_in(client)


def test_api_token_endpoint_counts_with_the_page_and_answers_429(client, world):
    sign_in(client, "lead_responder", WRONG)
    assert obtain(client, "lead_responder", WRONG).status_code == 400
    assert obtain(client, "lead_responder", WRONG).status_code == 429
    response = obtain(client, "lead_responder")
    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    assert response.json()["code"] == "locked_out"
    assert "token" not in response.json()


def test_username_lock_holds_from_another_address(world):
    attacker, owner = Client(REMOTE_ADDR="198.51.100.7"), Client(REMOTE_ADDR="192.0.2.10")
    for _ in range(3):
        sign_in(attacker, "lead_responder", WRONG)
    assert sign_in(owner, "lead_responder").status_code == 429
    # Other people are not affected by one username's lock.
    assert sign_in(owner, "lead_supervisor").status_code == 302


def test_address_lock_after_m_failures_over_many_usernames(world):
    attacker = Client(REMOTE_ADDR="198.51.100.7")
    for number in range(5):
        sign_in(attacker, f"guess-{number}", WRONG)
    # No username reached its own limit, but the address did.
    assert sign_in(attacker, "lead_responder").status_code == 429
    assert sign_in(Client(REMOTE_ADDR="192.0.2.10"), "lead_responder").status_code == 302


def test_cool_off_ends_the_pause(client, world):
    for _ in range(3):
        sign_in(client, "lead_responder", WRONG)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert sign_in(client, "lead_responder").status_code == 302


def test_success_clears_the_count_of_that_username_from_that_address(client, world):
    for _ in range(2):
        sign_in(client, "lead_responder", WRONG)
    sign_in(client, "lead_responder")
    client.post("/logout/")
    for _ in range(2):
        sign_in(client, "lead_responder", WRONG)
    assert sign_in(client, "lead_responder").status_code == 302


def test_behind_the_proxy_the_address_is_the_one_the_trusted_proxy_saw(settings, world):
    settings.AUDIT_TRUSTED_PROXIES = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for number in range(5):
        # The client forges the left part of X-Forwarded-For; the proxy appends the real address.
        sign_in(Client(), f"guess-{number}", WRONG, HTTP_X_FORWARDED_FOR=f"203.0.113.{number}, 198.51.100.7", **proxy)
    assert sign_in(Client(), "lead_responder", HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy).status_code == 429
    # Another client behind the same proxy is a different address.
    assert sign_in(Client(), "lead_supervisor", HTTP_X_FORWARDED_FOR="192.0.2.44", **proxy).status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}


def lock(username):
    client = Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(3):
        sign_in(client, username, WRONG)


def test_agency_admin_sees_the_pause_and_lifts_it_audited(client, world):
    lock("lead_responder")
    client.force_login(world.lead_admin)
    page = client.get(f"/agencies/{world.police.pk}/staff/").content.decode()
    assert 'data-testid="lockout-lead_responder"' in page
    assert 'data-testid="lockout-lead_supervisor"' not in page
    membership = world.lead_responder.memberships.get(agency=world.police)
    response = client.post(f"/agencies/{world.police.pk}/staff/{membership.pk}/unlock/")
    assert response.status_code == 302
    assert 'data-testid="lockout-lead_responder"' not in client.get(response["Location"]).content.decode()
    assert sign_in(Client(), "lead_responder").status_code == 302
    event = AuditEvent.objects.filter(action="change", target=f"user:{world.lead_responder.pk}").get()
    assert event.actor == world.lead_admin
    assert event.agency_id == world.police.pk
    assert event.details["lockout_lifted"] is True
    assert event.details["failures_cleared"] == 3


@pytest.mark.parametrize("who, status", [
    ("outsider_admin", 404), ("lead_responder", 403), ("lead_supervisor", 403), ("analyst", 403), ("anonymous", 302),
])
def test_nobody_else_lifts_a_pause(client, world, who, status):
    from agencies.services import membership_add

    lock("receiving_responder")
    if who == "outsider_admin":
        outsider_admin = make_user("outsider_admin")
        membership_add(user=outsider_admin, agency=world.school, role="agency_admin")
        client.force_login(outsider_admin)
    elif who != "anonymous":
        client.force_login(getattr(world, who))
    membership = world.receiving_responder.memberships.get(agency=world.health)
    response = client.post(f"/agencies/{world.health.pk}/staff/{membership.pk}/unlock/")
    assert response.status_code == status
    assert AccessAttempt.objects.filter(username="receiving_responder").exists()


def test_an_agency_admin_cannot_lift_a_pause_of_someone_outside_their_agency(client, world):
    lock("receiving_responder")
    client.force_login(world.lead_admin)
    membership = world.receiving_responder.memberships.get(agency=world.health)
    assert client.post(f"/agencies/{world.police.pk}/staff/{membership.pk}/unlock/").status_code == 404
    assert client.post(f"/agencies/{world.health.pk}/staff/{membership.pk}/unlock/").status_code == 404
    assert AccessAttempt.objects.filter(username="receiving_responder").exists()


def test_system_administrator_lifts_a_pause_in_django_admin_audited(client, world):
    lock("lead_responder")
    client.force_login(world.sysadmin)
    changelist = "/admin/axes/accessattempt/"
    assert "lead_responder" in client.get(changelist).content.decode()
    ids = list(AccessAttempt.objects.values_list("pk", flat=True))
    response = client.post(changelist, {"action": "lift_lockout", "_selected_action": ids})
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert AuditEvent.objects.filter(action="change", actor=world.sysadmin, details__lockout_lifted=True).exists()
    assert sign_in(Client(), "lead_responder").status_code == 302
    # Deleting records directly (unaudited) is not offered.
    lock("lead_responder")
    attempt = AccessAttempt.objects.get()
    assert client.post(f"{changelist}{attempt.pk}/delete/", {"post": "yes"}).status_code == 403


def test_failure_records_keep_no_secret(client, world):
    sign_in(client, "lead_responder", "a-secret-guess-1234")
    attempt = AccessAttempt.objects.get()
    assert "a-secret-guess-1234" not in attempt.post_data
