"""Celery tasks: thin wrappers around the services. Deadlines never ride on countdowns: the
minute sweeps read them from the database.

No task here stores a result: nothing reads them, and publishing a task whose result is kept makes
the publisher wait on the result backend, which is the broker's Redis and as down as it is.
"""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from .delivery import INFRA_RETRY_MAX, infra_retry_seconds, outbox_deliver, outbox_relay_many, outbox_relay_sweep
from .partitions import notification_partitions_ahead
from .services import deadline_sweep, deadline_sweep_backlog

# A sweep that meets a database that is restarting tries again in seconds (2, 4, 8, 10, 10 s), not a
# minute later; beat starts the next one anyway.
SWEEP_RETRY = {
    "autoretry_for": (OperationalError, InterfaceError), "max_retries": 5,
    "retry_backoff": 2, "retry_backoff_max": 10, "retry_jitter": False,
}


@shared_task(bind=True, ignore_result=True, **SWEEP_RETRY)
def sweep_deadlines(self) -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): fire due reminders, overdue notices and escalations.

    It sweeps one chunk (DEADLINE_SWEEP_CHUNK deadlines) itself; a larger backlog is shared out: one
    sweep_deadlines_chunk task per further chunk (at most DEADLINE_SWEEP_MAX_CHUNKS in all), on the
    queue this task came from, for the other workers. The sweepers never take the same rows
    (deadline_sweep claims with SKIP LOCKED), and what is left waits for the next minute."""
    chunk = settings.DEADLINE_SWEEP_CHUNK
    backlog = deadline_sweep_backlog(cap=chunk * settings.DEADLINE_SWEEP_MAX_CHUNKS)
    queue = (self.request.delivery_info or {}).get("routing_key") or None
    for _ in range(1, -(-backlog // chunk)):
        sweep_deadlines_chunk.apply_async(queue=queue, ignore_result=True)
    return deadline_sweep(limit=chunk)


@shared_task(ignore_result=True, **SWEEP_RETRY)
def sweep_deadlines_chunk() -> int:
    """One chunk of a large backlog of due deadlines (see sweep_deadlines)."""
    return deadline_sweep(limit=settings.DEADLINE_SWEEP_CHUNK)


@shared_task(ignore_result=True, **SWEEP_RETRY)
def relay_outbox() -> int:
    """Every NOTIFICATIONS_RELAY_SWEEP_SECONDS: enqueue outbox rows the on-commit relay could not, whose
    retry message was lost, or whose worker died (once its lease has run out)."""
    return outbox_relay_sweep()


@shared_task(ignore_result=True)
def relay_outbox_messages(message_ids: list[int]) -> int:
    """A batch of outbox rows written together (the deadline sweep's): enqueue their deliveries here,
    not in the writer. If this message is lost, the relay sweep enqueues them after their grace."""
    return outbox_relay_many(message_ids=message_ids)


@shared_task(
    bind=True, max_retries=None, ignore_result=True,
    # One send: EMAIL_TIMEOUT / SMS_GATEWAY_TIMEOUT bound it; the lease outlasts the hard limit.
    time_limit=settings.NOTIFICATIONS_DELIVERY_TIME_LIMIT,
    soft_time_limit=settings.NOTIFICATIONS_DELIVERY_SOFT_TIME_LIMIT,
)
def deliver_outbox_message(self, message_id: int, lease: str | None = None, sent: bool = False,
                           infra_retries: int = 0) -> str:
    outcome = outbox_deliver(message_id=message_id, lease=lease, sent=sent)
    if outcome.status != "retry":
        return outcome.status
    if outcome.lease is None:
        # SMTP / SMS failure: back off. If this retry message is lost, the relay sweep enqueues the row
        # again after its backoff.
        raise self.retry(countdown=outcome.retry_in, queue=settings.NOTIFICATIONS_QUEUE,
                         args=[message_id], kwargs={})
    if infra_retries >= INFRA_RETRY_MAX:
        # The database stayed away: the row is left to the relay sweep (after the lease).
        return "gave up"
    raise self.retry(
        countdown=infra_retry_seconds(retries=infra_retries), queue=settings.NOTIFICATIONS_QUEUE,
        args=[message_id], kwargs={"lease": outcome.lease, "sent": outcome.sent,
                "infra_retries": infra_retries + 1},
    )



@shared_task(ignore_result=True)
def partitions_ahead() -> list[str]:
    """Daily on PostgreSQL: this month's and the next NOTIFICATIONS_PARTITION_MONTHS_AHEAD months'
    partitions of the notifications, those missing (names of those created; nothing on SQLite)."""
    return notification_partitions_ahead(settings.NOTIFICATIONS_PARTITION_MONTHS_AHEAD)
