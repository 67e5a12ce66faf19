"""The session row and the signed-in person's row in one statement (accounts.session_store,
config.rows.row_get_with): once a process has seen a session signed in, its next requests read both
at once. Every rule of the two reads holds as before: a revoked or expired session is refused on the
next request, a deactivated person is nobody, the second-factor gate still reads fresh facts, and a
wrong guess only costs the second statement."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import session_store
from tests.conftest import mark_session_second_factor_verified


def _session_reads(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "django_session" in q["sql"] and "SELECT" in q["sql"]]


def _user_reads(captured) -> list[str]:
    table = get_user_model()._meta.db_table
    return [q["sql"] for q in captured.captured_queries
            if f'FROM "{table}"' in q["sql"] and "django_session" not in q["sql"]]


def test_after_the_first_request_session_and_person_are_one_statement(client, world):
    client.force_login(world.lead_responder)
    assert client.get("/api/me/").status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/me/")
    assert response.status_code == 200 and response.json()["username"] == "lead_responder"
    [read] = _session_reads(captured)
    assert "LEFT JOIN" in read
    assert _user_reads(captured) == []


def test_a_session_ended_elsewhere_is_refused_on_the_next_request(client, world):
    client.force_login(world.lead_responder)
    assert client.get("/api/me/").status_code == 200
    assert client.get("/api/me/").status_code == 200
    Session.objects.filter(session_key=client.session.session_key).delete()
    assert client.get("/api/me/").status_code in (401, 403)
    assert client.get("/cases/").status_code == 302


def test_an_expired_session_is_refused_on_the_next_request(client, world):
    client.force_login(world.lead_responder)
    assert client.get("/api/me/").status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/me/").status_code in (401, 403)


def test_a_deactivated_person_is_nobody_on_the_next_request(client, world):
    user = world.lead_responder
    client.force_login(user)
    assert client.get("/api/me/").status_code == 200
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    assert client.get("/api/me/").status_code in (401, 403)


@pytest.mark.real_second_factor
def test_the_second_factor_gate_reads_fresh_facts_with_the_session(client, world):
    """A supervisor whose session gave no code is held at the gate on every request, with the facts
    read in the session's statement; once verified, the same statement (without facts) lets them in."""
    client.force_login(world.lead_supervisor)
    assert client.get("/api/me/").status_code == 403
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/me/").status_code == 403
    [read] = _session_reads(captured)
    assert "LEFT JOIN" in read and "EXISTS" in read
    assert _user_reads(captured) == []
    mark_session_second_factor_verified(client)
    assert client.get("/api/me/").status_code == 200
    assert client.get("/api/me/").status_code == 200


def test_a_wrong_guess_reads_the_person_the_session_names(client, world):
    client.force_login(world.lead_responder)
    assert client.get("/api/me/").status_code == 200
    key = client.session.session_key
    session_store._PERSON_OF_SESSION[key] = (world.lead_supervisor.pk, False)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/me/")
    assert response.status_code == 200 and response.json()["username"] == "lead_responder"
    assert len(_user_reads(captured)) == 1  # the session's own person, read by the second statement
    assert session_store._PERSON_OF_SESSION[key][0] == world.lead_responder.pk
