"""Celery tasks of the reports app: thin wrappers around the services."""

import datetime
import logging

from celery import shared_task

from .dhis2 import report_dhis2_push
from .models import MonthlyReport
from .services import monthly_reports_build_due

logger = logging.getLogger(__name__)


@shared_task
def build_due_monthly_reports(today: str | None = None) -> list[dict]:
    """Beat, 02:00 on the 1st (Asia/Ho_Chi_Minh): last month's reports for every scope, and any
    missed months before it. `today` (YYYY-MM-DD) replays a run for another day."""
    day = datetime.date.fromisoformat(today) if today else None
    return [
        {"period": f"{o.period:%Y-%m}", "created": len(o.created), "existing": len(o.existing)}
        for o in monthly_reports_build_due(today=day)
    ]


@shared_task
def push_monthly_report_to_dhis2(report_id: int) -> list[str]:
    """Push the newest version of the report's month and scope: a task for v1 that runs late, after
    v2 was published, must not put v1's figures back in DHIS2."""
    report = MonthlyReport.objects.select_related("province").get(pk=report_id)
    newest = (
        MonthlyReport.objects.select_related("province")
        .filter(province_id=report.province_id, period=report.period).order_by("-version").first()
    )
    return [r.status for r in report_dhis2_push(report=newest)]
