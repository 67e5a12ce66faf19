"""Changing one's own password (new accounts get a one-time password to replace)."""

from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.conftest import PASSWORD

NEW = "a-new-and-long-passphrase-2026"


def change(client, old=PASSWORD, new1=NEW, new2=NEW, follow=False):
    data = {"old_password": old, "new_password1": new1, "new_password2": new2}
    return client.post("/password/", data, follow=follow)


def test_anonymous_is_sent_to_sign_in(client, db):
    response = client.get("/password/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/password/"
    assert change(client).status_code == 302
    assert "next=/password/" in change(client)["Location"]


def test_page_is_vietnamese_and_lists_password_rules(client, world):
    client.force_login(world.lead_responder)
    body = client.get("/password/").content.decode()
    assert "Đổi mật khẩu" in body
    assert "Ít nhất 12 ký tự" in body


def test_password_is_changed_and_the_session_survives(client, world):
    client.force_login(world.lead_responder)
    response = change(client, follow=True)
    assert response.redirect_chain[-1][0] == "/work/"
    assert "Mật khẩu của bạn đã được đổi." in response.content.decode()
    world.lead_responder.refresh_from_db()
    assert world.lead_responder.check_password(NEW)
    assert SESSION_KEY in client.session


def test_other_sessions_of_the_user_end_when_the_password_changes(world):
    other_device = Client()
    other_device.force_login(world.lead_responder)
    client = Client()
    client.force_login(world.lead_responder)
    change(client)
    assert other_device.get("/work/").status_code == 302


def test_wrong_current_password_is_a_form_error(client, world):
    client.force_login(world.lead_responder)
    response = change(client, old="not-my-password")
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    world.lead_responder.refresh_from_db()
    assert world.lead_responder.check_password(PASSWORD)


def test_weak_or_mismatched_new_password_is_a_form_error(client, world):
    client.force_login(world.lead_responder)
    for new1, new2 in [("12345678901", "12345678901"), ("short", "short"), (NEW, NEW + "x"), ("", "")]:
        response = change(client, new1=new1, new2=new2)
        assert response.status_code == 200
        assert response.context["form"].errors, (new1, new2)
    world.lead_responder.refresh_from_db()
    assert world.lead_responder.check_password(PASSWORD)


def test_password_change_requires_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.lead_responder)
    assert change(client).status_code == 403
    world.lead_responder.refresh_from_db()
    assert world.lead_responder.check_password(PASSWORD)
