"""Delivery in-process: claim, send, record, back off, give up; the relay and its sweep on the real broker.

The worker-process faults (killed worker, broker down, concurrent sweeps) are in test_worker_faults.py.
"""

import datetime
import io
import json
import urllib.error

import pytest
from django.core import mail
from django.utils import timezone

from notifications.delivery import backoff_seconds, outbox_deliver, outbox_relay, outbox_relay_sweep
from notifications.models import NotificationKind, OutboxMessage, UserContact
from notifications.services import notify

from .conftest import broker_pointing_at, closed_port, vn

TASK = "notifications.tasks.deliver_outbox_message"


def overdue(world, recipients=None, event_key="deadline:1:overdue"):
    notify(
        recipients=recipients or [world.receiving_supervisor], kind=NotificationKind.DEADLINE_OVERDUE,
        case_number="HN-2026-000123", link="/cases/7/", event_key=event_key,
        params={"due_at": vn(2026, 2, 25, 19, 0).isoformat(), "deadline_kind": "handoff_response"},
    )
    return {m.channel: m for m in OutboxMessage.objects.filter(event_key=event_key)}


def reload(message):
    message.refresh_from_db()
    return message


def test_email_is_sent_once_and_recorded(reachable):
    email = overdue(reachable)["email"]
    assert outbox_deliver(message_id=email.pk).status == "sent"
    assert outbox_deliver(message_id=email.pk).status == "skipped"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["receiving_supervisor@hopluc.invalid"]
    assert "HN-2026-000123" in message.subject
    email = reload(email)
    assert (email.status, email.attempts, email.last_error, email.lease_until) == ("sent", 1, "", None)
    assert email.sent_at is not None


def test_sms_goes_through_the_configured_backend(reachable, capsys):
    sms = overdue(reachable)["sms"]
    assert outbox_deliver(message_id=sms.pk).status == "sent"
    out = capsys.readouterr().out
    phone = UserContact.objects.get(user=reachable.receiving_supervisor).phone
    assert f"SMS to {phone}: HopLuc:" in out and "HN-2026-000123" in out


def test_a_refused_smtp_connection_is_retried_with_backoff_then_fails(reachable, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    email = overdue(reachable)["email"]

    outcome = outbox_deliver(message_id=email.pk)
    assert (outcome.status, outcome.retry_in) == ("retry", settings.NOTIFICATIONS_RETRY_BASE_SECONDS)
    email = reload(email)
    assert (email.status, email.attempts) == ("retrying", 1)
    assert "ConnectionRefusedError" in email.last_error
    assert email.next_attempt_at > timezone.now()
    # Too early: the backoff holds.
    assert outbox_deliver(message_id=email.pk).status == "skipped"

    OutboxMessage.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    assert outbox_deliver(message_id=email.pk).retry_in == 2 * settings.NOTIFICATIONS_RETRY_BASE_SECONDS
    OutboxMessage.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    assert outbox_deliver(message_id=email.pk).status == "failed"
    email = reload(email)
    assert (email.status, email.attempts) == ("failed", 3)
    assert "ConnectionRefusedError" in email.last_error
    OutboxMessage.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    assert outbox_deliver(message_id=email.pk).status == "skipped"


def test_backoff_doubles_up_to_the_cap(settings):
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS, settings.NOTIFICATIONS_RETRY_MAX_SECONDS = 30, 600
    assert [backoff_seconds(attempts=n) for n in range(1, 7)] == [30, 60, 120, 240, 480, 600]


def test_a_recipient_without_address_fails_for_good_at_once(reachable):
    email = overdue(reachable)["email"]
    reachable.receiving_supervisor.email = ""
    reachable.receiving_supervisor.save(update_fields=["email"])
    assert outbox_deliver(message_id=email.pk).status == "failed"
    assert reload(email).attempts == 1
    assert "no email address" in email.last_error


def test_a_live_lease_is_respected_and_an_expired_one_is_taken_over(reachable):
    email = overdue(reachable)["email"]
    now = timezone.now()
    OutboxMessage.objects.filter(pk=email.pk).update(
        status="sending", attempts=1, lease_until=now + datetime.timedelta(minutes=5)
    )
    assert outbox_deliver(message_id=email.pk).status == "skipped"
    assert mail.outbox == []
    OutboxMessage.objects.filter(pk=email.pk).update(lease_until=now - datetime.timedelta(seconds=1))
    assert outbox_deliver(message_id=email.pk).status == "sent"
    assert len(mail.outbox) == 1
    assert reload(email).attempts == 2


def test_deliver_an_unknown_id_does_nothing(db):
    assert outbox_deliver(message_id=987654).status == "skipped"


# --- SMS gateway (only the HTTP call is replaced) ----------------------------------------------------


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def gateway(settings, monkeypatch):
    settings.SMS_BACKEND = "notifications.sms.HttpGatewaySmsBackend"
    settings.SMS_GATEWAY_URL = "https://sms.example.vn/send"
    settings.SMS_GATEWAY_TOKEN = "secret-token"
    calls = []
    answers = []

    def urlopen(request, timeout):
        calls.append({"url": request.full_url, "headers": dict(request.header_items()),
                      "body": json.loads(request.data), "timeout": timeout})
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return FakeResponse(answer)

    monkeypatch.setattr("urllib.request.urlopen", urlopen)
    return calls, answers


def http_error(code):
    return urllib.error.HTTPError("https://sms.example.vn/send", code, "error", {}, io.BytesIO(b""))


def test_gateway_posts_json_with_the_bearer_token(reachable, gateway):
    calls, answers = gateway
    answers.append(b'{"id": "abc-1"}')
    sms = overdue(reachable)["sms"]
    assert outbox_deliver(message_id=sms.pk).status == "sent"
    [call] = calls
    assert call["url"] == "https://sms.example.vn/send"
    assert call["headers"]["Authorization"] == "Bearer secret-token"
    assert call["body"]["to"] == UserContact.objects.get(user=reachable.receiving_supervisor).phone
    assert "HN-2026-000123" in call["body"]["text"]
    assert call["timeout"] == 10


@pytest.mark.parametrize(
    "answer, status",
    [
        (http_error(503), "retrying"),
        (http_error(429), "retrying"),
        (urllib.error.URLError("timed out"), "retrying"),
        (TimeoutError("read timed out"), "retrying"),
        (http_error(400), "failed"),
        (http_error(401), "failed"),
    ],
    ids=["503", "429", "unreachable", "timeout", "400", "401"],
)
def test_gateway_errors_are_retried_or_failed(reachable, gateway, answer, status):
    calls, answers = gateway
    answers.append(answer)
    sms = overdue(reachable)["sms"]
    outbox_deliver(message_id=sms.pk)
    sms = reload(sms)
    assert sms.status == status
    assert sms.last_error


def test_gateway_needs_an_http_url(reachable, settings):
    settings.SMS_BACKEND = "notifications.sms.HttpGatewaySmsBackend"
    settings.SMS_GATEWAY_URL = "file:///etc/passwd"
    sms = overdue(reachable)["sms"]
    assert outbox_deliver(message_id=sms.pk).status == "failed"


# --- Relay to the broker -----------------------------------------------------------------------------


def test_relay_puts_the_delivery_task_on_the_configured_queue(reachable, private_queue):
    email = overdue(reachable)["email"]
    assert outbox_relay(message_id=email.pk) is True
    assert private_queue.drain() == [(TASK, [email.pk])]


def test_relay_sweep_enqueues_only_rows_past_their_relay_time_and_claims_them(reachable, private_queue, settings):
    rows = overdue(reachable)
    now = timezone.now()
    assert outbox_relay_sweep(now=now) == 0
    later = now + datetime.timedelta(seconds=settings.NOTIFICATIONS_RELAY_GRACE_SECONDS + 1)
    assert outbox_relay_sweep(now=later) == 2
    assert sorted(args[0] for _task, args in private_queue.drain()) == sorted(m.pk for m in rows.values())
    # Claimed: a second sweeper at the same moment finds nothing until the grace has passed again.
    assert outbox_relay_sweep(now=later) == 0
    assert private_queue.drain(wait=0.2) == []


def test_relay_sweep_skips_sent_rows_and_live_leases_but_takes_expired_leases(reachable, private_queue):
    rows = overdue(reachable)
    now = timezone.now()
    OutboxMessage.objects.filter(pk=rows["email"].pk).update(status="sent", relay_after=now)
    OutboxMessage.objects.filter(pk=rows["sms"].pk).update(
        status="sending", lease_until=now + datetime.timedelta(seconds=30), relay_after=now
    )
    assert outbox_relay_sweep(now=now) == 0
    assert outbox_relay_sweep(now=now + datetime.timedelta(seconds=31)) == 1
    assert private_queue.drain() == [(TASK, [rows["sms"].pk])]


def test_relay_with_the_broker_down_is_logged_not_raised(reachable, private_queue, caplog):
    from config.celery import app

    email = overdue(reachable)["email"]
    with broker_pointing_at(app, f"redis://127.0.0.1:{closed_port()}/0"):
        assert outbox_relay(message_id=email.pk) is False
    assert "not enqueued" in caplog.text

