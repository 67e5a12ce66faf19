"""The demo world's reports step: last twelve finished months, published once."""

from reports.demo import DEMO_REPORT_MONTHS, seed_demo_reports_step
from reports.models import MonthlyReport
from reports.periods import last_complete_month, local_today


def test_demo_step_publishes_the_last_twelve_months_once(world):
    seed_demo_reports_step(None)
    periods = sorted(set(MonthlyReport.objects.filter(province__isnull=True).values_list("period", flat=True)))
    assert len(periods) == DEMO_REPORT_MONTHS
    assert periods[-1] == last_complete_month(local_today())
    count = MonthlyReport.objects.count()
    seed_demo_reports_step(None)
    assert MonthlyReport.objects.count() == count
