"""Issue 9's national analyst, against the demo: every report of the demo's 13 months (national
and every province, first versions and corrections), attacked as one integer program per month and
population by the attacker of tests/reports/test_attacker.py.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_attack_demo \\
        .venv/bin/python benchmarks/reports_attack_demo.py

Uses the database DATABASE_URL names (created if missing, migrated, the demo world seeded once).
Builds every finished month of the demo (13), then corrects them as a data team would: three
survivors withdraw statistics consent, the type of one incident a month is fixed, and a
correction of the national report and of every province is asked for each month (published, or
held by the correction rule). Prints how many hidden counts the attack pins to one value (must be
0), how many it narrows below three values (must be 0) and the time it took.
"""

import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from agencies.demo import seed_demo_world  # noqa: E402
from benchmarks.reports_national_month import ensure_database  # noqa: E402
from cases.models import Case, CaseEvent, CaseEventType, GbvType, Incident  # noqa: E402
from reports.models import HeldCorrection, MonthlyReport  # noqa: E402
from reports.periods import last_complete_month, local_today, month_add  # noqa: E402
from reports.services import CorrectionHeld, monthly_report_correct, monthly_reports_build  # noqa: E402
from tests.reports.test_attacker import Attack  # noqa: E402

MONTHS = 13


def build_and_correct() -> None:
    today = local_today()
    periods = [month_add(last_complete_month(today), -back) for back in range(MONTHS - 1, -1, -1)]
    for period in periods:
        monthly_reports_build(period=period, today=today)
    if MonthlyReport.objects.filter(version__gt=1).exists() or HeldCorrection.objects.exists():
        return
    rng = random.Random(9)
    for case in rng.sample(list(Case.objects.filter(statistics_consent=True)), 3):
        Case.objects.filter(pk=case.pk).update(statistics_consent=False)
        CaseEvent.objects.create(case=case, type=CaseEventType.UPDATED, at=timezone.now(),
                                 data={"changes": {"statistics_consent": [True, False]}})
    for period in periods:
        incident = Incident.objects.filter(reported_on__year=period.year, reported_on__month=period.month).first()
        if incident is not None:
            Incident.objects.filter(pk=incident.pk).update(
                gbv_type=rng.choice([t for t in GbvType.values if t != incident.gbv_type]))
    published = held = 0
    for period in periods:
        scopes = [None, *sorted({r.province.code for r in MonthlyReport.objects.filter(
            period=period, province__isnull=False).select_related("province")})]
        for scope in scopes:
            try:
                report = monthly_report_correct(period=period, scope=scope, reason="Data errors fixed", today=today)
            except CorrectionHeld:
                held += 1
                continue
            published += report is not None
    print(f"corrections: {published} published, {held} held")


def attack() -> None:
    systems: dict = {}
    for report in MonthlyReport.objects.select_related("province").order_by("period", "province__code", "version"):
        if report.version == 1:
            systems.setdefault((report.period, "first"), []).append(report.data)
        else:
            scope = report.province.code if report.province_id else "national"
            systems[(report.period, scope, report.version)] = [report.data]
    reports = sum(len(v) for v in systems.values())
    started = time.perf_counter()
    result = Attack(systems)
    hidden = len(result.hidden)
    narrowed = result.narrowed(sample_rounds=4)
    seconds = time.perf_counter() - started
    pinned = sum(1 for count in narrowed.values() if count == 1)
    print(f"reports attacked: {reports} ({len(systems)} systems of one state of the data), hidden counts: {hidden}")
    print(f"pinned to one value: {pinned}; narrowed below three values: {len(narrowed)}; attack took {seconds:.1f} s")
    print(f"load average: {os.getloadavg()}")
    if narrowed:
        for name, count in list(narrowed.items())[:20]:
            print("  ", count, name)
        sys.exit(1)


def main() -> None:
    ensure_database()
    call_command("migrate", verbosity=0)
    print(f"database: {connection.settings_dict['NAME']}")
    started = time.perf_counter()
    seed_demo_world()
    build_and_correct()
    print(f"demo world, {MONTHS} months built and corrected in {time.perf_counter() - started:.0f} s")
    attack()


if __name__ == "__main__":
    main()
