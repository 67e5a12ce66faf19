"""Celery tasks of the cases app: thin wrappers around the services."""

from celery import shared_task

from .intake.services import drafts_expired_delete
from .sending import sendings_expired_delete


@shared_task
def delete_expired_forms() -> dict:
    """Beat, hourly: intake drafts past their expiry (the survivor's name and phone are in them) and form
    tokens past cases.sending.SENDING_KEPT are deleted, whether or not anyone starts an intake or sends a
    form afterwards."""
    return {"drafts": drafts_expired_delete(), "sendings": sendings_expired_delete()}
