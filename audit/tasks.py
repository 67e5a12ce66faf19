from celery import shared_task

from .services import audit_checkpoint_write


@shared_task
def checkpoint_chain() -> dict | None:
    """Every AUDIT_ANCHOR_INTERVAL_SECONDS (CELERY_BEAT_SCHEDULE): a signed anchor of the chain head
    in the checkpoint folder."""
    return audit_checkpoint_write(why="schedule")
