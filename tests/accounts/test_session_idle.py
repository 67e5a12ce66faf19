"""The idle timeout: a session dies SESSION_IDLE_MINUTES after the last request, and every request
pushes that moment back. Time is moved by rewriting the session's expiry in the database."""

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.conftest import PASSWORD


def _signed_in(client, username):
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return Session.objects.get(session_key=client.session.session_key)


def test_idle_timeout_is_configured_from_minutes():
    assert settings.SESSION_IDLE_MINUTES == 30
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_MINUTES * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


def test_new_session_expires_after_the_idle_period(client, world):
    before = timezone.now()
    session = _signed_in(client, "lead_responder")
    idle = timedelta(minutes=settings.SESSION_IDLE_MINUTES)
    assert before + idle <= session.expire_date <= timezone.now() + idle


def test_idle_session_is_expired(client, world):
    session = _signed_in(client, "lead_responder")
    # The user walked away: the last request was 30 minutes and one second ago.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))

    response = client.get("/work/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/work/"

    # The stale cookie is deleted, and the sign-in page says why the user is there, once.
    assert response.cookies[settings.SESSION_COOKIE_NAME].value == ""
    login_page = client.get(response["Location"])
    assert 'class="session-ended warning"' in login_page.content.decode()
    assert "Phiên làm việc đã kết thúc" in login_page.content.decode()
    assert "session-ended" not in client.get("/login/").content.decode()


def test_active_session_is_renewed_by_each_request(client, world):
    session = _signed_in(client, "lead_responder")
    # 29 minutes idle: one minute left.
    nearly = timezone.now() + timedelta(minutes=1)
    Session.objects.filter(pk=session.pk).update(expire_date=nearly)

    before = timezone.now()
    assert client.get("/work/").status_code == 200
    renewed = Session.objects.get(pk=session.pk).expire_date
    assert renewed >= before + timedelta(minutes=settings.SESSION_IDLE_MINUTES)
    assert renewed > nearly + timedelta(minutes=settings.SESSION_IDLE_MINUTES - 2)


def test_idle_session_cannot_call_the_api(client, world):
    session = _signed_in(client, "lead_responder")
    assert client.get("/api/me/").status_code == 200
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/me/")
    assert response.status_code == 403
    assert "lead_responder" not in response.content.decode()
    # API callers get no sign-in page notice queued for them.
    assert "messages" not in response.cookies
