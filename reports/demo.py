"""The demo world's published reports: the last twelve finished months, from the demo cases."""

from .periods import last_complete_month, local_today, month_add
from .selectors import monthly_report_latest
from .services import monthly_reports_build

DEMO_REPORT_MONTHS = 12


def seed_demo_reports_step(world) -> None:
    """Runs after every other demo step (registered `last`), so last month's report counts the demo's
    held case meeting and high-risk assessment (conferences.demo dates them there). Months that
    already have a national report are left as they are: published reports never change."""
    today = local_today()
    last = last_complete_month(today)
    for back in range(DEMO_REPORT_MONTHS - 1, -1, -1):
        period = month_add(last, -back)
        if monthly_report_latest(period=period, scope=None) is None:
            monthly_reports_build(period=period, today=today)
