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
    # Django's database sessions, less the renewal write of a request that changed nothing within
    # SESSION_RENEW_SECONDS of the last one (accounts.session_store).
    assert settings.SESSION_ENGINE == "accounts.session_store"
    assert settings.SESSION_RENEW_SECONDS == 60
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


def test_a_request_soon_after_the_last_renewal_writes_nothing(client, world):
    """The expiry stored less than SESSION_RENEW_SECONDS ago stands: the session is not written, so it
    ends at most that much before SESSION_IDLE_MINUTES after this request, never after."""
    session = _signed_in(client, "lead_responder")
    idle = timedelta(minutes=settings.SESSION_IDLE_MINUTES)
    renew = timedelta(seconds=settings.SESSION_RENEW_SECONDS)
    stored = timezone.now() + idle - renew / 2
    Session.objects.filter(pk=session.pk).update(expire_date=stored)

    before = timezone.now()
    assert client.get("/work/").status_code == 200
    assert Session.objects.get(pk=session.pk).expire_date == stored
    assert before + idle - renew <= stored

    # Further behind than that, the request renews it to the whole idle period again.
    behind = timezone.now() + idle - renew - timedelta(seconds=1)
    Session.objects.filter(pk=session.pk).update(expire_date=behind)
    before = timezone.now()
    assert client.get("/work/").status_code == 200
    assert Session.objects.get(pk=session.pk).expire_date >= before + idle


def test_a_changed_session_is_written_at_once(client, world):
    """However recent the renewal, a request that changes the session writes it, expiry renewed:
    here the warning's "stay signed in", which marks the session changed."""
    session = _signed_in(client, "lead_responder")
    idle = timedelta(minutes=settings.SESSION_IDLE_MINUTES)
    stored = timezone.now() + idle - timedelta(seconds=5)
    Session.objects.filter(pk=session.pk).update(expire_date=stored)

    before = timezone.now()
    assert client.post("/account/session/extend/").status_code == 200
    assert Session.objects.get(pk=session.pk).expire_date >= before + idle


def test_the_warning_counts_down_from_the_stored_expiry(client, world):
    """The idle-timeout warning of a page is timed from the expiry the session really has."""
    session = _signed_in(client, "lead_responder")
    idle = settings.SESSION_IDLE_MINUTES * 60
    Session.objects.filter(pk=session.pk).update(
        expire_date=timezone.now() + timedelta(seconds=idle - settings.SESSION_RENEW_SECONDS // 2))
    response = client.get("/work/")
    assert idle - settings.SESSION_RENEW_SECONDS <= response.context["session_idle_seconds"] < idle
    # Renewed, a page counts from the whole idle period.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() + timedelta(minutes=1))
    assert client.get("/work/").context["session_idle_seconds"] == idle


def test_the_store_reads_what_the_orm_reads(client, world):
    """The store reads the session with a statement written once (accounts.session_store): a live row
    loads as Django's `get()` loads it (same data, same aware expiry); an expired one, an unknown key,
    no key or an invalid one load nothing and leave the store without a key, as Django's read does."""
    from accounts.session_store import SessionStore

    session = _signed_in(client, "lead_responder")
    store = SessionStore(session.session_key)
    row = store._get_session_from_db()
    orm = Session.objects.get(session_key=session.session_key, expire_date__gt=timezone.now())
    assert (row.session_key, row.session_data, row.expire_date) == (orm.session_key, orm.session_data, orm.expire_date)
    assert timezone.is_aware(row.expire_date)
    assert store.load()["_auth_user_id"] == str(world.lead_responder.pk)
    assert store.session_key == session.session_key

    # One second past its expiry, the row is no session.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = SessionStore(session.session_key)
    assert expired._get_session_from_db() is None
    assert expired.session_key is None and expired.load() == {}

    for key in ("unknownkey" * 4, None, "short", ""):
        store = SessionStore(key)
        assert store._get_session_from_db() is None
        assert store.session_key is None
