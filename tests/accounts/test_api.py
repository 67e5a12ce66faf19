"""API sign-in: token exchange, /api/me/, and the schema closed to anonymous callers."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken

from agencies.services import membership_add
from tests.conftest import PASSWORD, authenticator_for, current_code, make_user, sign_in

TOKEN_URL = "/api/auth/token/"


def obtain(client, payload, **extra):
    return client.post(TOKEN_URL, json.dumps(payload), content_type="application/json", **extra)


def test_each_sign_in_gets_its_own_token_stored_only_as_a_digest(client, world):
    response = obtain(client, {"username": "lead_responder", "password": PASSWORD})
    assert response.status_code == 200
    key = response.json()["token"]
    assert response.json()["expiry"]
    second = obtain(client, {"username": "lead_responder", "password": PASSWORD}).json()["token"]
    assert second != key
    stored = list(AuthToken.objects.filter(user=world.lead_responder).values_list("digest", "token_key"))
    assert len(stored) == 2
    # Only a digest and a short prefix are kept: the token itself is nowhere in the table.
    assert not any(key in digest or second in digest for digest, _prefix in stored)
    assert {prefix for _digest, prefix in stored} == {key[:15], second[:15]}


def test_token_endpoint_accepts_form_data(client, world):
    response = client.post(TOKEN_URL, {"username": "lead_responder", "password": PASSWORD})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "payload, fields",
    [
        ({}, {"username", "password"}),
        ({"username": "lead_responder"}, {"password"}),
        ({"password": PASSWORD}, {"username"}),
        ({"username": "", "password": ""}, {"username", "password"}),
        ({"username": ["lead_responder"], "password": PASSWORD}, {"username"}),
        ({"username": "x" * 151, "password": PASSWORD}, {"username"}),
    ],
    ids=["empty", "no-password", "no-username", "blank", "list", "too-long"],
)
def test_token_bad_input_is_400_with_field_messages(client, world, payload, fields):
    response = obtain(client, payload)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == fields
    assert all(isinstance(message, str) and message for field in fields for message in body[field])
    assert not AuthToken.objects.exists()


def test_token_malformed_json_is_400(client, db):
    response = client.post(TOKEN_URL, "{not json", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "username, password",
    [("nobody-by-this-name", "wrong-password-1"), ("lead_responder", "wrong-password-1"), ("inactive_user", PASSWORD)],
    ids=["unknown-user", "wrong-password", "inactive-user"],
)
def test_token_refused_without_revealing_whether_the_username_exists(client, world, username, password):
    inactive = make_user("inactive_user")
    inactive.is_active = False
    inactive.save()
    response = obtain(client, {"username": username, "password": password})
    assert response.status_code == 400
    reference = obtain(client, {"username": "nobody-by-this-name", "password": "wrong-password-1"})
    assert response.json() == reference.json()
    assert set(response.json()) == {"non_field_errors"}
    assert not AuthToken.objects.exists()


def test_token_endpoint_does_not_trust_a_session(world):
    # A signed-in browser must not get a token without the password (nor need a CSRF token).
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.lead_responder)
    response = obtain(client, {"username": "lead_responder"})
    assert response.status_code == 400
    assert not AuthToken.objects.exists()


def test_token_endpoint_is_post_only(client, db):
    assert client.get(TOKEN_URL).status_code == 405


def test_me_with_token(client, world):
    membership_add(user=world.lead_responder, agency=world.health, role="supervisor")
    # A supervisor gives the code of their authenticator too.
    code = current_code(authenticator_for(world.lead_responder))
    key = obtain(client, {"username": "lead_responder", "password": PASSWORD, "otp": code}).json()["token"]
    response = Client().get("/api/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert response.json() == {
        "username": "lead_responder",
        "full_name": "",
        "memberships": [
            {
                "agency_id": world.health.pk, "agency_name": "Bệnh viện Đa khoa Hà Nội", "sector": "health",
                "province_code": "01", "role": "supervisor",
            },
            {
                "agency_id": world.police.pk, "agency_name": "Công an phường Ba Đình", "sector": "police",
                "province_code": "01", "role": "responder",
            },
        ],
        "analyst_scopes": [],
    }


def test_me_with_session(client, world):
    sign_in(client, "province_analyst")
    response = client.get("/api/me/")
    assert response.status_code == 200
    assert response.json() == {
        "username": "province_analyst",
        "full_name": "",
        "memberships": [],
        "analyst_scopes": [{"national": False, "province_code": "01", "province_name": "Hà Nội"}],
    }


def test_me_for_national_analyst(client, world):
    client.force_login(world.analyst)
    assert client.get("/api/me/").json()["analyst_scopes"] == [
        {"national": True, "province_code": None, "province_name": None}
    ]


def test_me_shows_only_the_callers_own_data(client, world):
    client.force_login(world.outsider_responder)
    body = client.get("/api/me/").content.decode()
    assert "outsider_responder" in body
    assert "lead_responder" not in body
    assert "Công an phường Ba Đình" not in body


@pytest.mark.parametrize("auth", [{}, {"HTTP_AUTHORIZATION": "Token not-a-real-token"}], ids=["anonymous", "bad-token"])
@pytest.mark.parametrize("path", ["/api/me/", "/api/schema/", "/api/docs/"])
def test_anonymous_gets_no_data(client, world, path, auth):
    response = client.get(path, **auth)
    assert response.status_code in (401, 403)
    body = response.content.decode()
    assert "openapi" not in body
    assert "swagger" not in body.lower()
    assert "lead_responder" not in body


def test_token_of_deactivated_user_stops_working(client, world):
    key = obtain(client, {"username": "lead_responder", "password": PASSWORD}).json()["token"]
    world.lead_responder.is_active = False
    world.lead_responder.save()
    response = Client().get("/api/me/", HTTP_AUTHORIZATION=f"Token {key}")
    # 403 rather than 401: DRF answers with the first authenticator's scheme, and session comes first.
    assert response.status_code in (401, 403)
    assert "lead_responder" not in response.content.decode()


def test_schema_and_docs_open_to_a_signed_in_user(client, world):
    client.force_login(world.lead_responder)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/auth/token/" in paths
    assert "/api/me/" in paths
    assert paths["/api/auth/token/"]["post"]["responses"].keys() >= {"200", "400"}
    assert schema.json()["components"]["schemas"].keys() >= {"AuthTokenObtainInput", "AuthToken", "Me", "MeMembership"}
    assert client.get("/api/docs/").status_code == 200


def _me_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/me/").status_code == 200
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_me_query_budget(client, world):
    client.force_login(world.lead_responder)
    # The first request of a session in a process reads the session and the user apart; the next ones
    # read both in one statement (accounts.session_store): compare requests of the same kind.
    client.get("/api/me/")
    queries = _me_queries(client)
    # session with its user, memberships (with agency and province), analyst scopes, session save
    assert len(queries) <= 4, "\n".join(queries)
    membership_add(user=world.lead_responder, agency=world.health, role="supervisor")
    membership_add(user=world.lead_responder, agency=world.school, role="responder")
    assert len(_me_queries(client)) == len(queries)
