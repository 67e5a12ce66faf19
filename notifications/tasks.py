"""Celery tasks: thin wrappers around the services. Deadlines never ride on countdowns: the
minute sweeps read them from the database."""

from celery import shared_task
from django.conf import settings

from .delivery import outbox_deliver, outbox_relay_sweep
from .services import deadline_sweep


@shared_task
def sweep_deadlines() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): fire due reminders, overdue notices and escalations."""
    return deadline_sweep()


@shared_task
def relay_outbox() -> int:
    """Every minute: enqueue outbox rows the on-commit relay could not, or whose worker died."""
    return outbox_relay_sweep()


@shared_task(bind=True, max_retries=None)
def deliver_outbox_message(self, message_id: int) -> str:
    outcome = outbox_deliver(message_id=message_id)
    if outcome.retry_in is not None:
        # If this retry message is lost, the relay sweep enqueues the row again after its backoff.
        raise self.retry(countdown=outcome.retry_in, queue=settings.NOTIFICATIONS_QUEUE)
    return outcome.status
