"""Delivery's reliability rules in-process: recognisable repeats, capped backoff, the schedule the
production settings give after an outage, give-up by age, the database-error paths, the publish bound.

The same properties under real faults (worker processes, a private Redis and PostgreSQL, an SMTP
server on loopback) are in test_fault_drills.py.
"""

import datetime
import time

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import OperationalError
from django.utils import timezone

from notifications import delivery
from notifications.checks import LATENESS_BOUND_SECONDS, notification_settings_check
from notifications.delivery import (
    backoff_seconds,
    email_message_id,
    lateness_bounds,
    outbox_deliver,
    outbox_relay_many,
)
from notifications.models import MANDATORY_KINDS, NotificationKind, OutboxMessage
from notifications.services import notify

from .conftest import broker_pointing_at, closed_port, vn


def tell(world, *, kind=NotificationKind.DEADLINE_OVERDUE, event_key="deadline:1:overdue"):
    notify(recipients=[world.receiving_supervisor], kind=kind, case_number="HN-2026-000123", link="/cases/7/",
           event_key=event_key,
           params={"due_at": vn(2026, 2, 25, 19, 0).isoformat(), "deadline_kind": "handoff_response"})
    return {m.channel: m for m in OutboxMessage.objects.filter(event_key=event_key)}


# --- The schedule the production defaults give ---------------------------------------------------------


def test_the_production_defaults_are_the_ones_documented():
    """config.settings.test changes none of these: the values below are what production runs with."""
    s = django_settings
    assert (s.NOTIFICATIONS_DELIVERY_TIME_LIMIT, s.NOTIFICATIONS_DELIVERY_SOFT_TIME_LIMIT) == (75, 60)
    assert s.NOTIFICATIONS_SEND_LEASE_SECONDS == 90
    assert (s.NOTIFICATIONS_RETRY_BASE_SECONDS, s.NOTIFICATIONS_URGENT_RETRY_MAX_SECONDS,
            s.NOTIFICATIONS_RETRY_MAX_SECONDS) == (15, 60, 90)
    assert (s.NOTIFICATIONS_RELAY_GRACE_SECONDS, s.NOTIFICATIONS_RELAY_SWEEP_SECONDS) == (30, 15)
    assert (s.EMAIL_TIMEOUT, s.SMS_GATEWAY_TIMEOUT) == (20, 10)
    assert s.CELERY_TASK_TIME_LIMIT == 300, "report builds keep their long limit"
    assert s.CELERY_BEAT_SCHEDULE["outbox-relay"]["schedule"] == 15.0


def test_with_the_production_defaults_every_fault_bound_is_within_two_minutes():
    bounds = lateness_bounds()
    assert bounds == {"killed_worker": 105, "broker_down": 45, "database_restart": 25, "smtp_outage": 110}
    assert max(bounds.values()) <= LATENESS_BOUND_SECONDS
    assert not [e for e in notification_settings_check(None) if e.id == "notifications.W001"]


def test_a_longer_lease_or_cap_is_warned_about(settings):
    settings.NOTIFICATIONS_SEND_LEASE_SECONDS = 360
    assert [e.id for e in notification_settings_check(None)] == ["notifications.W001"]


def first_attempt_after(outage_seconds: float, *, kind: str, attempt_seconds: float) -> float:
    """Simulate the retry schedule (delivery.backoff_seconds) of a message created when an outage
    starts: each attempt fails while the outage lasts, taking `attempt_seconds`; returns when the
    first attempt after the outage starts."""
    t, attempts = 0.0, 0
    while True:
        attempts += 1
        if t >= outage_seconds:
            return t
        t += attempt_seconds
        t += backoff_seconds(attempts=attempts, kind=kind)


@pytest.mark.parametrize("kind", [NotificationKind.HANDOFF_EMERGENCY, NotificationKind.HANDOFF_RECEIVED,
                                  NotificationKind.REPORT_PUBLISHED])
@pytest.mark.parametrize("attempt_seconds", [0.0, 20.0], ids=["refused", "hangs-until-timeout"])
def test_after_an_smtp_outage_of_any_length_the_next_attempt_comes_within_two_minutes(kind, attempt_seconds):
    """The production defaults, outages from 1 s to the 24 h give-up age (the old schedule, 30 s doubling
    to 3600 s, gave 154 s after a 300 s outage and up to an hour after longer ones)."""
    outages = [1, 10, 59, 61, 150, 300, 301, 600, 1799, 3600, 3 * 3600 + 7, 86399]
    cap = backoff_seconds(attempts=1000, kind=kind)
    assert cap == (60 if kind in MANDATORY_KINDS else 90)
    for outage in outages:
        lateness = first_attempt_after(outage, kind=kind, attempt_seconds=attempt_seconds) - outage
        assert 0 <= lateness <= cap + attempt_seconds <= LATENESS_BOUND_SECONDS, (outage, lateness)
    # Enough attempts for the whole give-up age: a row fails for its age, not for running out of tries.
    assert django_settings.NOTIFICATIONS_MAX_ATTEMPTS * 60 > django_settings.NOTIFICATIONS_GIVE_UP_HOURS * 3600


def test_urgent_kinds_back_off_to_a_shorter_cap(settings):
    assert [backoff_seconds(attempts=n, kind=NotificationKind.DEADLINE_ESCALATED) for n in range(1, 6)] == [
        15, 30, 60, 60, 60]
    assert [backoff_seconds(attempts=n, kind=NotificationKind.HANDOFF_ACCEPTED) for n in range(1, 6)] == [
        15, 30, 60, 90, 90]


# --- Repeats a recipient can recognise --------------------------------------------------------------------


def test_a_repeat_of_an_email_carries_the_same_message_id(reachable):
    """The at-least-once boundary: the SMTP server accepted, the worker died before recording it, the
    lease ran out and another worker sent it again. Both copies have one Message-ID."""
    email = tell(reachable)["email"]
    assert outbox_deliver(message_id=email.pk).status == "sent"
    OutboxMessage.objects.filter(pk=email.pk).update(status="sending", lease_until=timezone.now())
    assert outbox_deliver(message_id=email.pk).status == "sent"
    first, second = mail.outbox
    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"] == email_message_id(email)
    assert first.message()["Message-ID"] == email_message_id(email)
    assert email_message_id(email).startswith(f"<outbox.{email.pk}.") and email_message_id(email).endswith(">")
    other = tell(reachable, event_key="deadline:2:overdue")["email"]
    assert email_message_id(other) != email_message_id(email)


def test_an_sms_carries_a_short_reference_in_its_text_and_to_the_gateway(reachable, capsys):
    sms = tell(reachable)["sms"]
    assert outbox_deliver(message_id=sms.pk).status == "sent"
    assert capsys.readouterr().out.rstrip().endswith(f"#{sms.pk}")


# --- Giving up, and the failure list's source ---------------------------------------------------------------


def test_a_message_is_marked_failed_by_age_whatever_its_attempts(reachable, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    email = tell(reachable)["email"]
    assert outbox_deliver(message_id=email.pk).status == "retry"
    OutboxMessage.objects.filter(pk=email.pk).update(
        next_attempt_at=timezone.now(),
        created_at=timezone.now() - datetime.timedelta(hours=settings.NOTIFICATIONS_GIVE_UP_HOURS, seconds=1),
    )
    assert outbox_deliver(message_id=email.pk).status == "failed"
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", 2)


# --- Database errors: quick retries that take back their own lease ------------------------------------------


def test_a_database_error_before_sending_is_retried_and_the_retry_takes_its_lease_back(reachable, monkeypatch):
    email = tell(reachable)["email"]
    real_get = OutboxMessage.objects.select_related

    def broken(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(OutboxMessage.objects, "select_related", broken)
    outcome = outbox_deliver(message_id=email.pk)
    assert (outcome.status, outcome.retry_in, outcome.sent) == ("retry", None, False)
    assert outcome.lease
    email.refresh_from_db()
    assert email.status == "sending"  # the claim went through, the send did not
    monkeypatch.setattr(OutboxMessage.objects, "select_related", real_get)
    # Without the lease the row is someone else's until it expires …
    assert outbox_deliver(message_id=email.pk).status == "skipped"
    # … the retry, holding it, sends at once.
    assert outbox_deliver(message_id=email.pk, lease=outcome.lease).status == "sent"
    assert len(mail.outbox) == 1


def test_a_send_whose_record_failed_is_only_recorded_by_the_retry(reachable, monkeypatch):
    email = tell(reachable)["email"]
    monkeypatch.setattr(delivery, "RECORD_SENT_SECONDS", 0)
    calls = []
    real = delivery._record_sent

    def record_fails_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            return False
        return real(**kwargs)

    monkeypatch.setattr(delivery, "_record_sent", record_fails_once)
    outcome = outbox_deliver(message_id=email.pk)
    assert (outcome.status, outcome.sent) == ("retry", True)
    assert len(mail.outbox) == 1
    assert outbox_deliver(message_id=email.pk, lease=outcome.lease, sent=True).status == "sent"
    assert len(mail.outbox) == 1, "recorded, not sent again"
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 1)


# --- Publishing never holds a request ------------------------------------------------------------------------


def test_the_relay_keeps_its_connection_and_replaces_a_broken_one_without_losing_a_message(
        reachable, private_queue):
    from config.celery import app

    rows = tell(reachable)
    ids = [m.pk for m in rows.values()]
    assert len(ids) == 2
    assert delivery.outbox_relay_many(message_ids=ids[:1]) == 1
    kept = delivery._kept.connection
    assert kept is not None
    assert delivery.outbox_relay_many(message_ids=ids[1:]) == 1
    assert delivery._kept.connection is kept
    # The kept connection breaks (the broker restarted): the relay drops it and sends over a new one.
    broken = app.connection_for_write(f"redis://127.0.0.1:{closed_port()}/0", connect_timeout=0.5,
                                      transport_options={"max_retries": 0, "socket_connect_timeout": 0.5})
    delivery._kept.connection = broken
    assert delivery.outbox_relay_many(message_ids=ids) == 2
    assert delivery._kept.connection not in (None, broken, kept)
    assert sorted(args[0] for _name, args in private_queue.drain()) == sorted([*ids, *ids])
    # Another broker URL (a drill, a test) never goes over the connection kept for the old one.
    with broker_pointing_at(app, f"redis://127.0.0.1:{closed_port()}/0"):
        assert delivery.outbox_relay_many(message_ids=ids) == 0
    assert delivery._kept.connection is None


@pytest.mark.parametrize("server", ["refusing", "silent"])
def test_relay_to_a_broker_that_is_down_or_hung_returns_within_the_publish_timeout(
        reachable, private_queue, server, silent_port, settings):
    from config.celery import app

    rows = tell(reachable)
    port = closed_port() if server == "refusing" else silent_port
    started = time.monotonic()
    with broker_pointing_at(app, f"redis://127.0.0.1:{port}/0"):
        assert outbox_relay_many(message_ids=[m.pk for m in rows.values()]) == 0
    elapsed = time.monotonic() - started
    # NOTIFICATIONS_PUBLISH_TIMEOUT is 1 s; the margin is for a loaded machine, not for a retry loop.
    assert elapsed < 2 * settings.NOTIFICATIONS_PUBLISH_TIMEOUT + 1, elapsed
    # Left for the next relay sweep at once, not after the grace.
    for message in rows.values():
        message.refresh_from_db()
        assert message.status == "queued"
        assert message.relay_after <= timezone.now()
