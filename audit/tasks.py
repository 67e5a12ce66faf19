from celery import shared_task

from .services import audit_checkpoint_write


@shared_task
def checkpoint_chain() -> dict | None:
    """Daily (CELERY_BEAT_SCHEDULE): copy the chain head to the checkpoint folder."""
    return audit_checkpoint_write()
