"""Sign-ins, failed sign-ins and sign-outs all reach the `login_event` hook, without passwords."""

import logging

import pytest

from accounts.login_events import LoginEvent, login_event
from tests.conftest import PASSWORD


@pytest.fixture
def events():
    received: list[LoginEvent] = []

    def collect(sender, event, **kwargs):
        received.append(event)

    login_event.connect(collect, weak=False)
    yield received
    login_event.disconnect(collect)


def test_web_sign_in_is_recorded(client, world, events):
    client.post("/login/", {"username": "lead_responder", "password": PASSWORD}, HTTP_USER_AGENT="TestBrowser/1.0")
    assert [e.kind for e in events] == ["login"]
    event = events[0]
    assert event.username == "lead_responder"
    assert event.user_id == world.lead_responder.pk
    assert event.ip_address == "127.0.0.1"
    assert event.user_agent == "TestBrowser/1.0"
    assert event.path == "/login/"


def test_web_failed_sign_in_is_recorded_without_the_password(client, world, events, caplog):
    with caplog.at_level(logging.INFO, logger="hopluc.security"):
        client.post("/login/", {"username": "lead_responder", "password": "secret-guess-123"})
        client.post("/login/", {"username": "no-such-user", "password": "secret-guess-456"})
    assert [(e.kind, e.username, e.user_id) for e in events] == [
        ("login_failed", "lead_responder", None),
        ("login_failed", "no-such-user", None),
    ]
    assert "secret-guess" not in repr(events)
    assert "secret-guess" not in caplog.text
    assert "login_failed" in caplog.text


def test_sign_out_is_recorded(client, world, events):
    client.force_login(world.lead_responder)
    events.clear()
    client.post("/logout/")
    assert [(e.kind, e.user_id) for e in events] == [("logout", world.lead_responder.pk)]


def test_api_token_sign_in_and_failure_are_recorded(client, world, events):
    client.post("/api/auth/token/", {"username": "lead_responder", "password": "wrong-password-1"})
    client.post("/api/auth/token/", {"username": "lead_responder", "password": PASSWORD})
    assert [(e.kind, e.path) for e in events] == [
        ("login_failed", "/api/auth/token/"),
        ("login", "/api/auth/token/"),
    ]
    assert events[1].user_id == world.lead_responder.pk


def test_successful_sign_in_updates_last_login(client, world):
    assert world.lead_responder.last_login is None
    client.post("/login/", {"username": "lead_responder", "password": PASSWORD})
    world.lead_responder.refresh_from_db()
    assert world.lead_responder.last_login is not None
