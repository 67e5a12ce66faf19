"""Sign-in and sign-out through the web form."""

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.conftest import PASSWORD, make_user

WRONG = "not-the-password-at-all"


def sign_in(client, username, password=PASSWORD, **extra):
    return client.post("/login/", {"username": username, "password": password, **extra})


def test_login_page_is_vietnamese_by_default(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="vi">' in body
    assert "Đăng nhập" in body
    assert 'name="password"' in body


def test_language_switch_turns_login_page_english_and_back(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    body = client.get("/login/").content.decode()
    assert '<html lang="en">' in body
    assert "Sign in" in body
    assert "Đăng nhập" not in body

    client.post("/i18n/setlang/", {"language": "vi", "next": "/login/"})
    assert "Đăng nhập" in client.get("/login/").content.decode()


def test_language_switch_ignores_an_unknown_language_and_a_foreign_next(client, db):
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]
    # Django may store the cookie, but LocaleMiddleware only honours the configured LANGUAGES.
    body = client.get("/login/").content.decode()
    assert '<html lang="vi">' in body


def test_successful_sign_in_creates_a_new_session_with_safe_cookie(client, world):
    client.get("/login/")
    response = sign_in(client, "lead_responder")
    assert response.status_code == 302
    assert response["Location"] == "/"
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    # Expires with the browser; the server side enforces the idle timeout.
    assert cookie["max-age"] == ""
    assert client.session[SESSION_KEY] == str(world.lead_responder.pk)


def test_sign_in_rotates_the_session_key(client, world):
    # A session id planted before sign-in (session fixation) must not become the signed-in one.
    session = client.session
    session["planted"] = "x"
    session.save()
    planted_key = session.session_key
    sign_in(client, "lead_responder")
    assert client.session.session_key != planted_key


@pytest.mark.parametrize(
    "username, password",
    [("nobody-by-this-name", WRONG), ("lead_responder", WRONG), ("inactive_user", PASSWORD)],
    ids=["unknown-user", "wrong-password", "inactive-user"],
)
def test_failed_sign_in_does_not_reveal_whether_the_username_exists(client, world, username, password):
    inactive = make_user("inactive_user")
    inactive.is_active = False
    inactive.save()

    reference = sign_in(Client(), "nobody-by-this-name", WRONG)
    response = sign_in(client, username, password)
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    errors = response.context["form"].non_field_errors()
    assert errors == reference.context["form"].non_field_errors()
    assert len(errors) == 1
    body = response.content.decode()
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in body
    assert "Tài khoản này chưa được kích hoạt" not in body
    # The password typed is never echoed back.
    assert password not in body


def test_empty_sign_in_is_a_form_error(client, db):
    response = client.post("/login/", {})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"username", "password"}


def test_sign_in_requires_csrf_token(db, world):
    client = Client(enforce_csrf_checks=True)
    response = sign_in(client, "lead_responder")
    assert response.status_code == 403
    assert SESSION_KEY not in client.session

    page = client.get("/login/")
    token = page.context["csrf_token"]
    response = sign_in(client, "lead_responder", csrfmiddlewaretoken=str(token))
    assert response.status_code == 302


def test_next_is_followed_only_within_the_site(client, world):
    response = sign_in(client, "lead_responder", next="/work/")
    assert response["Location"] == "/work/"
    client.post("/logout/")
    response = sign_in(client, "lead_responder", next="https://evil.example/steal")
    assert response["Location"] == "/"


def test_signed_in_user_visiting_login_goes_home(client, world):
    client.force_login(world.lead_responder)
    response = client.get("/login/")
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_sign_out_is_post_only_and_ends_the_session(client, world):
    client.force_login(world.lead_responder)
    assert client.get("/logout/").status_code == 405
    assert client.get("/work/").status_code == 200

    response = client.post("/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/login/"
    assert "Bạn đã đăng xuất." in response.content.decode()
    # Sign-out is not mistaken for an idle timeout.
    assert "session-ended" not in response.content.decode()
    assert client.get("/work/").status_code == 302


def test_sign_out_requires_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.lead_responder)
    assert client.post("/logout/").status_code == 403
    assert client.get("/work/").status_code == 200
