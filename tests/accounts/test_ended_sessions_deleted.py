"""Ended sessions, the sign-in records of ended sessions (address, browser) and failed sign-ins past the
lockout's cool-off (username typed, address) are deleted by beat every hour, not only when someone next
signs in or looks at their sessions: at an office where nobody did, they stayed for good. Live ones, and
a pause still running, are kept."""

import datetime
from unittest import mock

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from accounts.lockout import lockouts_for_usernames
from accounts.models import SignInSession
from config.celery import app as celery_app
from tests.conftest import PASSWORD

WRONG = "not-the-password-at-all"
NEW_PASSWORD = "a-new-long-passphrase-2026"


def browser(username: str, agent: str = "Firefox on a phone") -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    assert client.post("/login/", {"username": username, "password": PASSWORD}).status_code == 302
    return client


def run_beat_entry() -> dict:
    """Run the task the beat entry names, as the worker would find it by that name."""
    from django.conf import settings

    celery_app.loader.import_default_modules()
    return celery_app.tasks[settings.CELERY_BEAT_SCHEDULE["ended-sessions"]["task"]].apply(throw=True).get()


def session_exists(client: Client) -> bool:
    return Session.objects.filter(session_key=client.session.session_key).exists()


def record_exists(client: Client) -> bool:
    return SignInSession.objects.filter(session_key=client.session.session_key).exists()


def test_the_hourly_entry_names_a_registered_task(settings):
    celery_app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["ended-sessions"]
    assert entry["task"] == "accounts.tasks.delete_ended_sessions" and entry["task"] in celery_app.tasks
    assert entry["schedule"].minute == {25} and entry["schedule"].hour == set(range(24))


def test_an_idle_session_and_its_record_are_deleted_an_active_one_kept(world, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        idle, active = browser("lead_responder", "Idle laptop"), browser("lead_responder", "Busy phone")
        traveller.shift(datetime.timedelta(minutes=20))
        assert active.get("/work/").status_code == 200
        # The idle one's 30 minutes are up; the active one's run until 50.
        traveller.shift(datetime.timedelta(minutes=settings.SESSION_IDLE_MINUTES - 20 + 5))
        assert run_beat_entry() == {"signin_records": 1, "failed_signins": 0}
        assert not session_exists(idle) and not record_exists(idle)
        assert session_exists(active) and record_exists(active)
        assert SESSION_KEY in active.session and active.get("/work/").status_code == 200
        assert [s["user_agent"] for s in active.get("/api/auth/sessions/").json()] == ["Busy phone"]


def test_a_record_whose_session_is_gone_is_deleted(world):
    """Django flushes a session whose password hash no longer matches without signing out (no signal), and
    an operator may delete session rows: the record of the address and browser stayed."""
    gone, kept = browser("lead_responder", "Old laptop"), browser("receiving_responder")
    Session.objects.filter(session_key=gone.session.session_key).delete()
    assert run_beat_entry()["signin_records"] == 1
    assert not record_exists(gone) and record_exists(kept)


def test_a_record_past_the_absolute_lifetime_is_deleted_while_its_session_row_still_lives(world, settings):
    settings.SESSION_ABSOLUTE_HOURS = 1
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        early = browser("lead_responder", "Signed in at eight")
        traveller.shift(datetime.timedelta(minutes=25))
        assert early.get("/work/").status_code == 200
        traveller.shift(datetime.timedelta(minutes=5))
        late = browser("lead_responder", "Signed in at half past")
        traveller.shift(datetime.timedelta(minutes=20))
        assert early.get("/work/").status_code == 200 and late.get("/work/").status_code == 200
        # An hour and a minute after the first sign-in: that session signs nobody in any more, although its
        # row runs until its idle timeout (20 minutes from now).
        traveller.shift(datetime.timedelta(minutes=11))
        assert run_beat_entry()["signin_records"] == 1
        assert session_exists(early) and not record_exists(early)
        assert record_exists(late)
        assert early.get("/work/").status_code == 302


def test_the_record_of_a_password_change_survives_a_clean_up_between_the_key_change_and_its_follow(world):
    """A password change cycles the session key: the old session row is deleted, and the record follows the
    new key only at the end of the request. A clean-up in between takes the record for one of an ended
    session; the follow records the live session again, so that its owner can still see and end it."""
    from accounts import middleware
    from accounts.services import sessions_ended_delete

    follow = middleware.signin_session_follow_key

    def clean_up_then_follow(*, request):
        sessions_ended_delete()
        follow(request=request)

    laptop = browser("lead_responder", "Laptop browser")
    with mock.patch.object(middleware, "signin_session_follow_key", clean_up_then_follow):
        response = laptop.post("/password/", {
            "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
        })
    assert response.status_code == 302
    assert record_exists(laptop)
    assert [(s["current"], s["user_agent"]) for s in laptop.get("/api/auth/sessions/").json()] == [
        (True, "Laptop browser")
    ]


@pytest.fixture
def small_limits(settings):
    settings.LOGIN_LOCKOUT_USERNAME_FAILURES = 3
    settings.LOGIN_LOCKOUT_IP_FAILURES = 20
    settings.LOGIN_LOCKOUT_MINUTES = 15


def fail(username: str) -> int:
    return Client().post("/login/", {"username": username, "password": WRONG}).status_code


def test_failed_sign_ins_are_deleted_after_the_cool_off_and_a_running_pause_is_not_lifted(world, small_limits):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        assert fail("lead_responder") == 200
        traveller.shift(datetime.timedelta(minutes=5))
        assert [fail("receiving_responder") for _ in range(3)] == [200, 200, 429]
        # 10 minutes into the one failure's cool-off, and 5 into the pause: nothing goes.
        traveller.shift(datetime.timedelta(minutes=5))
        assert run_beat_entry()["failed_signins"] == 0
        assert AccessAttempt.objects.count() == 2
        # The one failure's 15 minutes are over; the pause runs for 4 more.
        traveller.shift(datetime.timedelta(minutes=6))
        assert run_beat_entry()["failed_signins"] == 1
        assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["receiving_responder"]
        assert lockouts_for_usernames(usernames=["receiving_responder"]) == {
            "receiving_responder": start + datetime.timedelta(minutes=20)
        }
        assert Client().post("/login/", {"username": "receiving_responder", "password": PASSWORD}).status_code == 429
        # (A sign-in tried during the pause counts as a failure and starts it again.)
        ends = lockouts_for_usernames(usernames=["receiving_responder"])["receiving_responder"]
        traveller.move_to(ends - datetime.timedelta(seconds=1))
        assert run_beat_entry()["failed_signins"] == 0
        assert lockouts_for_usernames(usernames=["receiving_responder"]) == {"receiving_responder": ends}
        # The pause is over: its attempts go too, and the right password works again.
        traveller.move_to(ends + datetime.timedelta(minutes=1))
        assert run_beat_entry()["failed_signins"] == 1
        assert not AccessAttempt.objects.exists()
        assert Client().post("/login/", {"username": "receiving_responder", "password": PASSWORD}).status_code == 302


def test_nothing_of_a_morning_sign_in_is_left_by_the_evening(world, small_limits, settings):
    """The auditor's case: a sign-in through the form and a mistyped one, then a working day later."""
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        laptop = browser("lead_responder", "Mozilla/5.0 (Linux; Android 14; SM-A546E) Chrome/131")
        assert fail("lead_responder") == 200
        assert SignInSession.objects.exists() and AccessAttempt.objects.exists()
        traveller.shift(datetime.timedelta(hours=settings.SESSION_ABSOLUTE_HOURS + 1, minutes=30))
        assert laptop.get("/work/").status_code == 302
        assert run_beat_entry() == {"signin_records": 1, "failed_signins": 1}
        assert not Session.objects.filter(expire_date__lte=timezone.now()).exists()
        assert not SignInSession.objects.exists() and not AccessAttempt.objects.exists()
