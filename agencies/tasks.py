from celery import shared_task

from .services import agency_groups_reconcile


@shared_task
def reconcile_agency_groups() -> dict:
    """Nightly (CELERY_BEAT_SCHEDULE): report and repair drift between agency groups and memberships."""
    return agency_groups_reconcile()
