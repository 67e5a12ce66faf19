"""Issue 11 part 4: a session ends SESSION_ABSOLUTE_HOURS after sign-in however active it is, on
top of the idle timeout. Time is moved by rewriting the sign-in time kept in the session."""

import time

from django.conf import settings
from rest_framework.test import APIClient

from tests.conftest import PASSWORD


def _signed_in(client):
    assert client.post("/login/", {"username": "lead_responder", "password": PASSWORD}).status_code == 302
    return client.session["signed_in_at"]


def _age(client, seconds: int) -> None:
    session = client.session
    session["signed_in_at"] = int(time.time()) - seconds
    session.save()


def test_default_is_twelve_hours():
    assert settings.SESSION_ABSOLUTE_HOURS == 12


def test_a_busy_session_still_ends_after_the_absolute_lifetime(client, world):
    before = time.time()
    assert _signed_in(client) >= int(before)
    limit = settings.SESSION_ABSOLUTE_HOURS * 3600
    _age(client, limit - 60)
    # Requests keep the idle timeout away but do not move the sign-in time.
    assert client.get("/work/").status_code == 200
    _age(client, limit)
    response = client.get("/work/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/work/"
    assert "_auth_user_id" not in client.session
    assert 'class="session-ended warning"' in client.get("/login/").content.decode()


def test_the_api_on_a_session_is_refused_too(world):
    client = APIClient()
    _signed_in(client)
    assert client.get("/api/me/").status_code == 200
    _age(client, settings.SESSION_ABSOLUTE_HOURS * 3600 + 1)
    assert client.get("/api/me/").status_code == 403
