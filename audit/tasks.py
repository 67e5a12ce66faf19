from celery import shared_task
from django.conf import settings

from .partitions import audit_partitions_ahead
from .services import audit_chain_pending, audit_checkpoint_write


@shared_task
def checkpoint_chain() -> dict | None:
    """Every AUDIT_ANCHOR_INTERVAL_SECONDS (CELERY_BEAT_SCHEDULE): a signed anchor of the chain head
    in the checkpoint folder (it chains what is waiting first)."""
    return audit_checkpoint_write(why="schedule")


@shared_task
def chain_pending() -> int:
    """Every AUDIT_CHAIN_INTERVAL_SECONDS: chain the committed events that no chain-now task chained
    (the broker could not take it, or no worker consumes AUDIT_CHAIN_QUEUE)."""
    return audit_chain_pending()


@shared_task(ignore_result=True)
def chain_now(using: str | None = None) -> int:
    """Sent after the commit of audited transactions (audit.services.audit_chain_soon, at most once per
    AUDIT_CHAIN_SOON_SECONDS per process, on AUDIT_CHAIN_QUEUE): chain what is waiting. It waits for
    the chain lock (off every request's path): a chainer at work may have read the waiting events
    before this task's commit was visible."""
    return audit_chain_pending(durable=False, using=using)


@shared_task
def partitions_ahead() -> list[str]:
    """Daily on PostgreSQL: this month's and the next AUDIT_PARTITION_MONTHS_AHEAD months' partitions of
    the audit trail, those missing (names of the partitions created; nothing on SQLite)."""
    return audit_partitions_ahead(settings.AUDIT_PARTITION_MONTHS_AHEAD)
