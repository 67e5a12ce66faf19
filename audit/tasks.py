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
    """Every AUDIT_CHAIN_INTERVAL_SECONDS: chain the committed events that no request chained (their
    request's try found another chainer at work, or failed)."""
    return audit_chain_pending()


@shared_task
def partitions_ahead() -> list[str]:
    """Daily on PostgreSQL: this month's and the next AUDIT_PARTITION_MONTHS_AHEAD months' partitions of
    the audit trail, those missing (names of the partitions created; nothing on SQLite)."""
    return audit_partitions_ahead(settings.AUDIT_PARTITION_MONTHS_AHEAD)
