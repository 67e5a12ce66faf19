"""The idle timeout: a session dies SESSION_IDLE_MINUTES after the last request, and every request
pushes that moment back. Time is moved by rewriting the session's expiry in the database."""

from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends import db
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
    # Database sessions (Django's, renewed without a transaction around the one UPDATE).
    assert settings.SESSION_ENGINE == "accounts.session_store"
    assert issubclass(import_module(settings.SESSION_ENGINE).SessionStore, db.SessionStore)


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


PASSIVE = {"HTTP_X_HOPLUC_PASSIVE": "1"}


def _one_minute_left(client, username):
    """Signed in through the pages, with one minute of idle time left: (session key, its expiry)."""
    from tests.conftest import sign_in

    sign_in(client, username)
    key = client.session.session_key
    nearly = timezone.now() + timedelta(minutes=1)
    Session.objects.filter(pk=key).update(expire_date=nearly)
    return key, nearly


def test_the_review_queues_poll_does_not_renew_the_session(client, world):
    """Issue 16: the review queue checks for news every 30 seconds (static/js/review-queue.js sends
    X-HopLuc-Passive: 1). That poll is not activity: the session still ends SESSION_IDLE_MINUTES
    after the supervisor's last real request."""
    key, nearly = _one_minute_left(client, "lead_supervisor")

    response = client.get("/supervision/reviews/", **PASSIVE)
    assert response.status_code == 200
    assert 'id="queue-sections"' in response.content.decode()
    assert settings.SESSION_COOKIE_NAME not in response.cookies  # the cookie is not renewed either
    assert Session.objects.get(pk=key).expire_date == nearly

    # Once the idle time has passed, the poll finds the session gone like any other request.
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/supervision/reviews/", **PASSIVE)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_real_request_after_a_poll_still_renews_the_session(client, world):
    key, nearly = _one_minute_left(client, "lead_supervisor")
    assert client.get("/supervision/reviews/", **PASSIVE).status_code == 200
    assert client.get("/supervision/reviews/").status_code == 200
    assert Session.objects.get(pk=key).expire_date > nearly + timedelta(minutes=settings.SESSION_IDLE_MINUTES - 2)


def test_only_a_get_can_be_passive(client, world):
    """A POST marked passive is still activity (and its session changes are kept)."""
    key, nearly = _one_minute_left(client, "lead_responder")
    assert client.post("/account/session/extend/", **PASSIVE).status_code == 200
    assert Session.objects.get(pk=key).expire_date > nearly


def test_the_review_queue_script_marks_its_poll_passive():
    from pathlib import Path

    from accounts.middleware import PASSIVE_REQUEST_HEADER

    script = (Path(settings.BASE_DIR) / "static/js/review-queue.js").read_text()
    assert f'"{PASSIVE_REQUEST_HEADER}": "1"' in script
