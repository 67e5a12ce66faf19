"""Celery tasks of the privacy app: thin wrappers around the services."""

from celery import shared_task

from .retention import retention_apply
from .services import access_package_build


@shared_task
def apply_retention() -> dict:
    """Beat, daily: retention notices and anonymisation of closed cases (privacy.retention)."""
    run = retention_apply()
    return {"notified": run.notified, "anonymised": run.anonymised, "cancelled": run.cancelled, "held": run.held}


@shared_task
def build_access_package(request_id: int) -> str:
    """Build the access package of a granted request (privacy.services.access_package_build)."""
    return access_package_build(request_id=request_id)
