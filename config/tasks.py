import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def heartbeat() -> str:
    """Proves the beat → broker → worker → database path is alive: its log line is what operators
    look for, and the time it writes is the beat heartbeat age of /healthz/detail."""
    from notifications.models import Heartbeat

    Heartbeat.objects.update_or_create(name="beat", defaults={"at": timezone.now()})
    logger.info("heartbeat")
    return "ok"


@shared_task
def echo(value: str) -> str:
    return value
