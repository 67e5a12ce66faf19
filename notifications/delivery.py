"""Getting outbox rows out: relay to Celery, claim, send, record, retry.

Every step is a conditional UPDATE, so that any number of workers and sweepers can run at once:
- relay: on commit the rows' ids are handed to the delivery task over the thread's broker connection
  (kept between relays, made anew when it fails) bounded by NOTIFICATIONS_PUBLISH_TIMEOUT, never
  touching the result backend; a broker that is down only delays them, because `outbox_relay_sweep`
  (every NOTIFICATIONS_RELAY_SWEEP_SECONDS) enqueues every row still undelivered after
  NOTIFICATIONS_RELAY_GRACE_SECONDS (moving `relay_after` forward is its claim), and a row that could
  not be enqueued is made due for the next sweep at once;
- delivery: the task claims the row (queued / waiting to retry / a dead worker's expired lease →
  sending, with a lease), sends, and records the result. A second copy of the task finds nothing to
  claim. A worker killed mid-send leaves its lease to expire; the sweep then hands the row on.
The lease (NOTIFICATIONS_SEND_LEASE_SECONDS) is longer than the delivery's hard time limit, so a row is
only taken from a worker that can no longer be sending it.

At-least-once boundary: a message the SMTP server (or SMS gateway) accepted but whose "sent" could
not be recorded (the worker died in between, or the database stayed away) is sent again after the
lease, with the same Message-ID (SMS: the same reference), which mail servers and clients use to drop
the repeat. Everywhere else a row is sent at most once.
"""

import datetime
import hashlib
import logging
import time
from dataclasses import dataclass
from smtplib import SMTPRecipientsRefused, SMTPSenderRefused
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import DatabaseError, connection
from django.db.models import F, Q
from django.utils import timezone

from config.broker import KeptConnection, bounded_connection, release

from .models import MANDATORY_KINDS, Channel, OutboxMessage
from .sms import SmsError, sms_backend
from .texts import notification_language, notification_texts

logger = logging.getLogger(__name__)

UNDELIVERED = (OutboxMessage.Status.QUEUED, OutboxMessage.Status.RETRYING, OutboxMessage.Status.SENDING)
# Quick, bounded retries of a delivery that met a database or broker error (not an SMTP/SMS one):
# 2, 4, 8, then every 10 s, about two minutes in all; after that the relay sweep takes over.
INFRA_RETRY_MAX = 14
INFRA_RETRY_CAP_SECONDS = 10
# How long a worker that has sent a message keeps trying to record it while the database is away,
# before leaving it to a retry of the task (and, failing that, to the lease: a repeat).
RECORD_SENT_SECONDS = 20
# What _record_sent leaves of the task's soft time limit: a last attempt and the retry's scheduling.
RECORD_SENT_MARGIN_SECONDS = 2


class PermanentDeliveryError(Exception):
    """Trying again cannot help: no address, a refused recipient."""


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str  # "sent", "retry", "failed", "skipped"
    retry_in: float | None = None
    # Set when the database failed: the lease this delivery holds (so its retry may take the row
    # back at once) and whether the message went out under it (so the retry only records that).
    lease: str | None = None
    sent: bool = False


# notifications.tasks.deliver_outbox_message, which tests/notifications/test_delivery.py checks by name.
DELIVER_TASK = "notifications.tasks.deliver_outbox_message"


def infra_retry_seconds(*, retries: int) -> float:
    return min(2 ** (retries + 1), INFRA_RETRY_CAP_SECONDS)


def _publish_connection():
    from config.celery import app

    return bounded_connection(app, timeout=settings.NOTIFICATIONS_PUBLISH_TIMEOUT)


# This thread's publishing connection, kept between relays.
_kept = KeptConnection()


def outbox_relay_many(*, message_ids: list[int]) -> int:
    """Hand the rows to the delivery task; returns how many were enqueued. Never raises: rows that
    cannot be enqueued now are made due for the relay sweep, and the caller's request must not fail
    or wait for them.

    The thread's connection to the broker is kept for the next relay. A kept connection that fails
    (the broker restarted) is dropped and the rest go over a new one, once: a broker that is down costs
    one bounded connect, as before."""
    from config.celery import app

    done = 0
    key = (app.conf.broker_url, settings.NOTIFICATIONS_PUBLISH_TIMEOUT)
    conn = _kept.take(key)
    attempts = 2 if conn is not None else 1
    for attempt in range(attempts):
        try:
            if conn is None:
                conn = _publish_connection()
            for message_id in message_ids[done:]:
                # By name: the task module imports this one, so importing it back would be a cycle.
                # ignore_result as on the task itself (a kept result makes the publisher wait on Redis).
                app.send_task(
                    DELIVER_TASK, args=[message_id], queue=settings.NOTIFICATIONS_QUEUE, retry=False,
                    connection=conn, ignore_result=True,
                )
                done += 1
            _kept.keep(key, conn)
            return done
        except Exception as exc:
            if conn is not None and conn is _kept.connection:
                _kept.drop()
            elif conn is not None:
                release(conn)
            conn = None
            if attempt + 1 < attempts:
                continue
            left = list(message_ids[done:])
            logger.warning("Outbox messages %s not enqueued; the relay sweep will retry: %s", left, exc)
            try:
                OutboxMessage.objects.filter(pk__in=left, status__in=UNDELIVERED).update(relay_after=timezone.now())
            except DatabaseError:
                logger.warning("Outbox messages %s wait for their relay grace", left)
    return done


# notifications.tasks.relay_outbox_messages: outbox_relay_many in a worker.
RELAY_TASK = "notifications.tasks.relay_outbox_messages"


def outbox_relay_later(*, message_ids: list[int]) -> bool:
    """Hand a batch of rows to a worker that relays them (outbox_relay_many there): one publish for
    the whole batch, for writers of many rows at once (the deadline sweep). Never raises: rows that
    cannot be handed over now are made due for the relay sweep."""
    from config.celery import app

    try:
        with _publish_connection() as conn:
            app.send_task(RELAY_TASK, args=[list(message_ids)], queue=settings.NOTIFICATIONS_QUEUE, retry=False,
                          connection=conn, ignore_result=True)
        return True
    except Exception as exc:
        logger.warning("%s outbox messages not handed to the relay; the relay sweep will: %s", len(message_ids), exc)
        try:
            OutboxMessage.objects.filter(pk__in=message_ids, status__in=UNDELIVERED).update(relay_after=timezone.now())
        except DatabaseError:
            logger.warning("%s outbox messages wait for their relay grace", len(message_ids))
        return False


def outbox_relay(*, message_id: int) -> bool:
    return outbox_relay_many(message_ids=[message_id]) == 1


def _claimable(now: datetime.datetime) -> Q:
    return Q(
        status__in=(OutboxMessage.Status.QUEUED, OutboxMessage.Status.RETRYING), next_attempt_at__lte=now
    ) | Q(status=OutboxMessage.Status.SENDING, lease_until__lt=now)


def outbox_relay_sweep(*, now: datetime.datetime | None = None, batch_size: int = 500) -> int:
    """Enqueue again every undelivered row whose relay time has passed; returns how many."""
    now = now or timezone.now()
    grace = datetime.timedelta(seconds=settings.NOTIFICATIONS_RELAY_GRACE_SECONDS)
    candidates = list(
        OutboxMessage.objects.filter(status__in=UNDELIVERED, relay_after__lte=now)
        .filter(_claimable(now))
        .order_by("relay_after")
        .values_list("pk", "relay_after")[:batch_size]
    )
    claimed = [
        message_id for message_id, relay_after in candidates
        if OutboxMessage.objects.filter(pk=message_id, relay_after=relay_after).update(relay_after=now + grace) == 1
    ]
    return outbox_relay_many(message_ids=claimed) if claimed else 0


def retry_cap_seconds(*, kind: str) -> int:
    if kind in MANDATORY_KINDS:
        return settings.NOTIFICATIONS_URGENT_RETRY_MAX_SECONDS
    return settings.NOTIFICATIONS_RETRY_MAX_SECONDS


def backoff_seconds(*, attempts: int, kind: str = "") -> float:
    return min(settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), retry_cap_seconds(kind=kind))


# A Celery worker that lost the broker tries to reconnect every 2, 4, … seconds, at most every 30 s
# (kombu's Connection.ensure_connection defaults, which Celery's consumer uses).
BROKER_RECONNECT_MAX_SECONDS = 30


def lateness_bounds() -> dict[str, float]:
    """The longest a notice can wait after each fault ends until its next delivery attempt starts,
    from the settings in force (README, "Reliability"; a test holds the defaults to 120 s):
    - a worker killed while sending: its lease runs out, then the next relay sweep hands the row on;
    - the broker down: rows the web could not enqueue are due for the sweep at once, so it takes the
      worker's reconnect and the next sweep;
    - the database restarted: deliveries retry every few seconds, sweeps too, then the next sweep;
    - SMTP / SMS down: the backoff cap, plus one attempt that may hang until its timeout."""
    sweep = settings.NOTIFICATIONS_RELAY_SWEEP_SECONDS
    slowest_attempt = max(settings.EMAIL_TIMEOUT, settings.SMS_GATEWAY_TIMEOUT)
    return {
        "killed_worker": settings.NOTIFICATIONS_SEND_LEASE_SECONDS + sweep,
        "broker_down": BROKER_RECONNECT_MAX_SECONDS + sweep,
        "database_restart": INFRA_RETRY_CAP_SECONDS + sweep,
        "smtp_outage": max(settings.NOTIFICATIONS_RETRY_MAX_SECONDS, settings.NOTIFICATIONS_URGENT_RETRY_MAX_SECONDS)
        + slowest_attempt,
    }


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "hopluc.invalid"


def email_message_id(message: OutboxMessage) -> str:
    """The same Message-ID for every attempt at one outbox row: a repeat is recognisable as one."""
    digest = hashlib.sha256(f"{message.event_key}|{message.recipient_id}|{message.channel}".encode()).hexdigest()
    return f"<outbox.{message.pk}.{digest[:16]}@{_host()}>"


def sms_reference(message: OutboxMessage) -> str:
    """A short reference the recipient can match repeats by (and the gateway may deduplicate on)."""
    return f"#{message.pk}"


def _send(message: OutboxMessage) -> None:
    user = message.recipient
    texts = notification_texts(notification=message.notification, language=notification_language(user=user))
    if message.channel == Channel.EMAIL:
        if not user.email:
            raise PermanentDeliveryError("the recipient has no email address")
        email = EmailMessage(
            subject=texts.subject, body=texts.body, to=[user.email],
            headers={"Message-ID": email_message_id(message)},
        )
        try:
            email.send()
        except (SMTPRecipientsRefused, SMTPSenderRefused) as exc:
            raise PermanentDeliveryError(f"{type(exc).__name__}: {exc}") from exc
    elif message.channel == Channel.SMS:
        contact = getattr(user, "contact", None)
        if contact is None or not contact.phone:
            raise PermanentDeliveryError("the recipient has no mobile number")
        reference = sms_reference(message)
        try:
            sms_backend().send(to=contact.phone, text=f"{texts.sms} {reference}", reference=reference)
        except SmsError as exc:
            if exc.permanent:
                raise PermanentDeliveryError(str(exc)) from exc
            raise
    else:
        raise PermanentDeliveryError(f"unknown channel {message.channel!r}")


def _record_sent(*, message_id: int, lease_until: datetime.datetime, task_started: float) -> bool:
    """Record the send under our lease, trying again for a while if the database is away: every
    second spent here is a second less in which the row could be sent twice. For RECORD_SENT_SECONDS
    at most, and never into the task's soft time limit (counted from `task_started`, time.monotonic()):
    a task ended there schedules no retry, and its row would wait for its lease and then be sent again
    by the relay sweep. Giving up in time lets the task's retry record the send instead."""
    give_up = min(time.monotonic() + RECORD_SENT_SECONDS,
                  task_started + settings.NOTIFICATIONS_DELIVERY_SOFT_TIME_LIMIT - RECORD_SENT_MARGIN_SECONDS)
    while True:
        try:
            OutboxMessage.objects.filter(
                pk=message_id, status=OutboxMessage.Status.SENDING, lease_until=lease_until
            ).update(status=OutboxMessage.Status.SENT, sent_at=timezone.now(), lease_until=None, last_error="")
            return True
        except DatabaseError as exc:
            connection.close()
            left = give_up - time.monotonic()
            if left <= 0:
                logger.error("Outbox message %s was sent but could not be recorded: %s", message_id, exc)
                return False
            time.sleep(min(1.0, left))


def _give_up(message: OutboxMessage, *, now: datetime.datetime) -> bool:
    too_old = now - message.created_at >= datetime.timedelta(hours=settings.NOTIFICATIONS_GIVE_UP_HOURS)
    return too_old or message.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS


def outbox_deliver(*, message_id: int, lease: str | None = None, sent: bool = False) -> DeliveryOutcome:
    """Claim, send and record one outbox row. Returns what the task should do next.

    `lease` and `sent` come from an earlier run of the same task that the database interrupted:
    the row it left in "sending" under that lease is taken back at once instead of after the lease
    (nothing went out), or only recorded as sent (it did)."""
    started = time.monotonic()
    if lease is not None:
        held = datetime.datetime.fromisoformat(lease)
        if sent:
            try:
                recorded = _record_sent(message_id=message_id, lease_until=held, task_started=started)
            except Exception:
                recorded = False
            if not recorded:
                return DeliveryOutcome(status="retry", lease=lease, sent=True)
            return DeliveryOutcome(status="sent")
    else:
        held = None
    now = timezone.now()
    lease_until = now + datetime.timedelta(seconds=settings.NOTIFICATIONS_SEND_LEASE_SECONDS)
    claimable = _claimable(now)
    if held is not None:
        claimable |= Q(status=OutboxMessage.Status.SENDING, lease_until=held)
    try:
        claimed = OutboxMessage.objects.filter(claimable, pk=message_id).update(
            status=OutboxMessage.Status.SENDING, lease_until=lease_until, relay_after=lease_until,
            attempts=F("attempts") + 1,
        )
        if claimed != 1:
            # Sent already, being sent by a live worker, failed for good, or not due yet: nothing to do.
            return DeliveryOutcome(status="skipped")
        message = OutboxMessage.objects.select_related(
            "notification", "recipient", "recipient__contact"
        ).get(pk=message_id)
    except DatabaseError as exc:
        # Whether or not the claim reached the database, nothing was sent: the retry may take the row
        # back under this lease.
        logger.warning("Outbox message %s: database error before sending, retrying: %s", message_id, exc)
        return DeliveryOutcome(status="retry", retry_in=None, lease=lease_until.isoformat())
    mine = OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.SENDING, lease_until=lease_until)
    try:
        _send(message)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        finished = timezone.now()
        try:
            if isinstance(exc, PermanentDeliveryError) or _give_up(message, now=finished):
                mine.update(status=OutboxMessage.Status.FAILED, last_error=error, lease_until=None)
                logger.error(
                    "Outbox message %s failed for good after %s attempts: %s", message_id, message.attempts, error
                )
                return DeliveryOutcome(status="failed")
            delay = backoff_seconds(attempts=message.attempts, kind=message.notification.kind)
            next_attempt_at = finished + datetime.timedelta(seconds=delay)
            mine.update(
                status=OutboxMessage.Status.RETRYING, last_error=error, lease_until=None,
                next_attempt_at=next_attempt_at,
                relay_after=next_attempt_at + datetime.timedelta(seconds=settings.NOTIFICATIONS_RELAY_GRACE_SECONDS),
            )
        except DatabaseError as db_exc:
            logger.warning("Outbox message %s: send failed and database error recording it: %s", message_id, db_exc)
            return DeliveryOutcome(status="retry", retry_in=None, lease=lease_until.isoformat())
        logger.warning(
            "Outbox message %s attempt %s failed, retry in %ss: %s", message_id, message.attempts, delay, error
        )
        return DeliveryOutcome(status="retry", retry_in=delay)
    if not _record_sent(message_id=message_id, lease_until=lease_until, task_started=started):
        return DeliveryOutcome(status="retry", retry_in=None, lease=lease_until.isoformat(), sent=True)
    return DeliveryOutcome(status="sent")
