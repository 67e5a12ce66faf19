"""The page (and API) where a person sees their own active web sessions and API tokens and ends them."""

import json

from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken

from accounts.models import SignInSession
from audit.models import AuditEvent
from tests.conftest import PASSWORD

NEW_PASSWORD = "a-new-long-passphrase-2026"

PAGE = "/account/sessions/"


def browser(username, agent="Firefox on a phone") -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    assert client.post("/login/", {"username": username, "password": PASSWORD}).status_code == 302
    return client


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


def record_of(client) -> SignInSession:
    return SignInSession.objects.get(session_key=client.session.session_key)


def test_page_lists_own_sessions_and_tokens_only(world):
    laptop, phone = browser("lead_responder", "Laptop browser"), browser("lead_responder", "Phone browser")
    browser("receiving_responder", "Someone else's browser")
    token = Client().post("/api/auth/token/", {"username": "lead_responder", "password": PASSWORD}).json()["token"]
    other_token = Client().post(
        "/api/auth/token/", {"username": "receiving_responder", "password": PASSWORD}
    ).json()["token"]
    response = laptop.get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Laptop browser" in body and "Phone browser" in body
    assert "Someone else" not in body
    assert f'data-testid="session-{record_of(phone).pk}"' in body
    assert token[:15] in body
    assert token not in body
    assert other_token[:15] not in body
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]


def test_ending_another_session_signs_that_browser_out_audited(world):
    laptop, phone = browser("lead_responder"), browser("lead_responder")
    record = record_of(phone)
    response = laptop.post(f"/account/sessions/{record.pk}/end/")
    assert response.status_code == 302
    assert phone.get("/work/").status_code == 302
    assert not signed_in(phone)
    assert signed_in(laptop)
    assert AuditEvent.objects.filter(
        action="revoke", actor=world.lead_responder, details__session_ended=record.pk
    ).exists()


def test_ending_the_current_session_signs_out(world):
    laptop = browser("lead_responder")
    response = laptop.post(f"/account/sessions/{record_of(laptop).pk}/end/")
    assert response.status_code == 302
    assert not signed_in(laptop)


def test_someone_elses_session_or_token_cannot_be_ended(world):
    mine, theirs = browser("lead_responder"), browser("receiving_responder")
    their_record = record_of(theirs)
    their_token = Client().post(
        "/api/auth/token/", {"username": "receiving_responder", "password": PASSWORD}
    ).json()["token"]
    assert mine.post(f"/account/sessions/{their_record.pk}/end/").status_code == 404
    assert mine.post(f"/account/tokens/{their_token[:15]}/revoke/").status_code == 404
    assert mine.delete(f"/api/auth/sessions/{their_record.pk}/").status_code == 404
    assert mine.delete(f"/api/auth/tokens/{their_token[:15]}/").status_code == 404
    assert signed_in(theirs) and theirs.get("/work/").status_code == 200
    assert AuthToken.objects.filter(user=world.receiving_responder).exists()


def test_anonymous_is_sent_to_sign_in(client, db):
    assert client.get(PAGE)["Location"].startswith("/login/")
    assert client.post("/account/sessions/1/end/")["Location"].startswith("/login/")
    assert client.get("/api/auth/sessions/").status_code in (401, 403)


def test_revoking_a_token_from_the_page(world):
    laptop = browser("lead_responder")
    token = Client().post("/api/auth/token/", {"username": "lead_responder", "password": PASSWORD}).json()["token"]
    assert laptop.post(f"/account/tokens/{token[:15]}/revoke/").status_code == 302
    assert Client().get("/api/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code in (401, 403)


def test_sessions_api_lists_and_ends_own_sessions(world):
    laptop, phone = browser("lead_responder", "Laptop browser"), browser("lead_responder", "Phone browser")
    listed = laptop.get("/api/auth/sessions/").json()
    assert {(s["user_agent"], s["current"]) for s in listed} == {("Laptop browser", True), ("Phone browser", False)}
    assert all(set(s) == {"id", "started_at", "ip", "user_agent", "current"} for s in listed)
    phone_id = next(s["id"] for s in listed if not s["current"])
    assert laptop.delete(f"/api/auth/sessions/{phone_id}/").status_code == 204
    assert not signed_in(phone)
    assert [s["user_agent"] for s in laptop.get("/api/auth/sessions/").json()] == ["Laptop browser"]


def test_the_record_follows_the_session_when_a_password_change_cycles_its_key(world):
    laptop, phone = browser("lead_responder"), browser("lead_responder")
    old_key = laptop.session.session_key
    response = laptop.post("/password/", {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })
    assert response.status_code == 302
    assert laptop.session.session_key != old_key
    listed = laptop.get("/api/auth/sessions/").json()
    # The phone's session ended with the password change (Django's session hash); the laptop's is current.
    assert [s["current"] for s in listed] == [True]
    assert phone.get("/work/").status_code == 302


def test_signing_out_forgets_the_session(world):
    laptop = browser("lead_responder")
    key = laptop.session.session_key
    laptop.post("/logout/")
    assert not SignInSession.objects.filter(session_key=key).exists()


def test_api_sign_in_records_no_web_session(world):
    Client().post(
        "/api/auth/token/", json.dumps({"username": "lead_responder", "password": PASSWORD}),
        content_type="application/json",
    )
    assert not SignInSession.objects.exists()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_lists_cost_the_same_for_few_and_many_sessions_and_tokens(world):
    laptop = browser("lead_responder")
    obtain = lambda: Client().post(  # noqa: E731
        "/api/auth/token/", {"username": "lead_responder", "password": PASSWORD}
    )
    obtain()
    # The laptop's first request reads its session and user apart, the next ones in one statement
    # (accounts.session_store): every request measured below is one of the next ones.
    laptop.get(PAGE)
    few = {url: _queries(laptop, url) for url in ("/api/auth/sessions/", "/api/auth/tokens/", PAGE)}
    for _ in range(4):
        browser("lead_responder")
        obtain()
    many = {url: _queries(laptop, url) for url in few}
    assert many == few
    assert len(laptop.get("/api/auth/sessions/").json()) == 5
    assert len(laptop.get("/api/auth/tokens/").json()) == 5
