"""Getting outbox rows out: relay to Celery, claim, send, record, retry.

Every step is a conditional UPDATE, so that any number of workers and sweepers can run at once:
- relay: on commit the row's id is handed to the delivery task; a broker that is down only delays
  it, because `outbox_relay_sweep` enqueues again every row still undelivered after
  NOTIFICATIONS_RELAY_GRACE_SECONDS (moving `relay_after` forward is its claim);
- delivery: the task claims the row (queued / waiting to retry / a dead worker's expired lease →
  sending, with a lease), sends, and records the result. A second copy of the task finds nothing to
  claim. A worker killed mid-send leaves its lease to expire; the sweep then hands the row on.
The lease (NOTIFICATIONS_SEND_LEASE_SECONDS) is longer than the task's hard time limit, so a row is
only taken from a worker that can no longer be sending it.
"""

import datetime
import logging
from dataclasses import dataclass
from smtplib import SMTPRecipientsRefused, SMTPSenderRefused

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import F, Q
from django.utils import timezone

from .models import Channel, OutboxMessage
from .sms import SmsError, sms_backend
from .texts import notification_language, notification_texts

logger = logging.getLogger(__name__)

UNDELIVERED = (OutboxMessage.Status.QUEUED, OutboxMessage.Status.RETRYING, OutboxMessage.Status.SENDING)


class PermanentDeliveryError(Exception):
    """Trying again cannot help: no address, a refused recipient."""


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str  # "sent", "retry", "failed", "skipped"
    retry_in: float | None = None


def outbox_relay(*, message_id: int) -> bool:
    """Hand the row to the delivery task. Never raises: a row that cannot be enqueued now is picked
    up by the relay sweep, and the caller's request must not fail for it."""
    from .tasks import deliver_outbox_message

    try:
        # No publish retries: a down broker would otherwise hold the caller for seconds; the sweep retries.
        deliver_outbox_message.apply_async(args=[message_id], queue=settings.NOTIFICATIONS_QUEUE, retry=False)
    except Exception:
        logger.warning("Outbox message %s not enqueued; the relay sweep will retry", message_id, exc_info=True)
        return False
    return True


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
    relayed = 0
    for message_id, relay_after in candidates:
        claimed = OutboxMessage.objects.filter(pk=message_id, relay_after=relay_after).update(relay_after=now + grace)
        if claimed == 1 and outbox_relay(message_id=message_id):
            relayed += 1
    return relayed


def backoff_seconds(*, attempts: int) -> float:
    return min(
        settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
        settings.NOTIFICATIONS_RETRY_MAX_SECONDS,
    )


def _send(message: OutboxMessage) -> None:
    user = message.recipient
    texts = notification_texts(notification=message.notification, language=notification_language(user=user))
    if message.channel == Channel.EMAIL:
        if not user.email:
            raise PermanentDeliveryError("the recipient has no email address")
        try:
            EmailMessage(subject=texts.subject, body=texts.body, to=[user.email]).send()
        except (SMTPRecipientsRefused, SMTPSenderRefused) as exc:
            raise PermanentDeliveryError(f"{type(exc).__name__}: {exc}") from exc
    elif message.channel == Channel.SMS:
        contact = getattr(user, "contact", None)
        if contact is None or not contact.phone:
            raise PermanentDeliveryError("the recipient has no mobile number")
        try:
            sms_backend().send(to=contact.phone, text=texts.sms)
        except SmsError as exc:
            if exc.permanent:
                raise PermanentDeliveryError(str(exc)) from exc
            raise
    else:
        raise PermanentDeliveryError(f"unknown channel {message.channel!r}")


def outbox_deliver(*, message_id: int) -> DeliveryOutcome:
    """Claim, send and record one outbox row. Returns what the task should do next."""
    now = timezone.now()
    lease_until = now + datetime.timedelta(seconds=settings.NOTIFICATIONS_SEND_LEASE_SECONDS)
    claimed = OutboxMessage.objects.filter(_claimable(now), pk=message_id).update(
        status=OutboxMessage.Status.SENDING, lease_until=lease_until, relay_after=lease_until,
        attempts=F("attempts") + 1,
    )
    if claimed != 1:
        # Sent already, being sent by a live worker, failed for good, or not due yet: nothing to do.
        return DeliveryOutcome(status="skipped")
    message = OutboxMessage.objects.select_related("notification", "recipient", "recipient__contact").get(pk=message_id)
    mine = OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.SENDING, lease_until=lease_until)
    try:
        _send(message)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        finished = timezone.now()
        if isinstance(exc, PermanentDeliveryError) or message.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
            mine.update(status=OutboxMessage.Status.FAILED, last_error=error, lease_until=None)
            logger.error("Outbox message %s failed for good after %s attempts: %s", message_id, message.attempts, error)
            return DeliveryOutcome(status="failed")
        delay = backoff_seconds(attempts=message.attempts)
        next_attempt_at = finished + datetime.timedelta(seconds=delay)
        mine.update(
            status=OutboxMessage.Status.RETRYING, last_error=error, lease_until=None, next_attempt_at=next_attempt_at,
            relay_after=next_attempt_at + datetime.timedelta(seconds=settings.NOTIFICATIONS_RELAY_GRACE_SECONDS),
        )
        logger.warning(
            "Outbox message %s attempt %s failed, retry in %ss: %s", message_id, message.attempts, delay, error
        )
        return DeliveryOutcome(status="retry", retry_in=delay)
    mine.update(status=OutboxMessage.Status.SENT, sent_at=timezone.now(), lease_until=None, last_error="")
    return DeliveryOutcome(status="sent")
