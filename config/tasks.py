import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task
def heartbeat() -> str:
    """Proves the beat → broker → worker path is alive; its log line is what operators look for."""
    logger.info("heartbeat")
    return "ok"


@shared_task
def echo(value: str) -> str:
    return value
