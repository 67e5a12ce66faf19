"""Issue 9's national analyst, against the demo: every report of the demo's 13 months (national
and every province, first versions and corrections), attacked as one integer program per month and
population by the attacker of tests/reports/attacker.py.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_attack_demo \\
        .venv/bin/python benchmarks/reports_attack_demo.py [--dump FILE | --load FILE]

Uses the database DATABASE_URL names (created if missing, migrated, the demo world seeded once).
Builds every finished month of the demo (13), then corrects them as a data team would: three
survivors withdraw statistics consent, the type of one incident a month is fixed, and a
correction of the national report and of the provinces that fix touches is asked for each month
(published, or held by the correction rule; the other provinces' data did not change, since a
withdrawal counts from the next month's report). Prints the months, the reports attacked (scopes × versions), the
hidden counts attacked, how many the attack pins to one value (must be 0), how many it narrows below
three values (must be 0, each one is listed: month, scope, table, entry, values) and the time it
took. `--dump FILE` also saves the published reports (a pickle), `--load FILE` attacks saved reports
without a database. `--plant` then shows the attack is not blind at this size: in the largest
component, every hidden count but one is published with its value in an integer solution of
everything published, and the attack must pin the last one.
"""

import copy
import os
import pickle
import random
import sys
import time
from collections import defaultdict
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
from cases.events import case_updated  # noqa: E402
from cases.models import Case, GbvType, Incident  # noqa: E402
from reports.models import HeldCorrection, MonthlyReport  # noqa: E402
from reports.periods import last_complete_month, local_today, month_add  # noqa: E402
from reports.services import CorrectionHeld, monthly_report_correct, monthly_reports_build  # noqa: E402
from tests.reports.attacker import Attack, entries  # noqa: E402

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
        case_updated(case=case, actor=None, agency=None, at=timezone.now(),
                     changes={"statistics_consent": (True, False)})
    touched: dict = {}
    for period in periods:
        incident = Incident.objects.filter(reported_on__year=period.year, reported_on__month=period.month).first()
        if incident is not None:
            Incident.objects.filter(pk=incident.pk).update(
                gbv_type=rng.choice([t for t in GbvType.values if t != incident.gbv_type]))
            touched[period] = {incident.province.code, incident.case.province.code}
    published = held = 0
    for period in periods:
        # The fix touches the national report and the provinces of the incident and its case; no
        # other scope's data changed (a withdrawal counts from the next month's report).
        for scope in [None, *sorted(touched.get(period, ()))]:
            started = time.perf_counter()
            try:
                report = monthly_report_correct(period=period, scope=scope, reason="Data errors fixed", today=today)
                outcome = "unchanged" if report is None else f"v{report.version} published"
            except CorrectionHeld:
                held += 1
                outcome = "held"
            published += outcome.endswith("published")
            print(f"  correction {period:%Y-%m} {scope or 'national'}: {outcome} "
                  f"({time.perf_counter() - started:.1f} s)", flush=True)
    print(f"corrections: {published} published, {held} held")


def published_systems() -> dict:
    """The reports published together from one state of the data: all scopes of a month's first
    publication; each correction on its own."""
    systems: dict = {}
    for report in MonthlyReport.objects.select_related("province").order_by("period", "province__code", "version"):
        if report.version == 1:
            systems.setdefault((report.period, "first"), []).append(report.data)
        else:
            scope = report.province.code if report.province_id else "national"
            systems[(report.period, scope, report.version)] = [report.data]
    return systems


def attack(systems: dict) -> int:
    months = sorted({tag[0] for tag in systems})
    reports = sum(len(v) for v in systems.values())
    corrections = sum(1 for tag in systems if tag[1] != "first")
    started = time.perf_counter()
    result = Attack(systems)
    built = time.perf_counter() - started
    narrowed = result.narrowed()
    seconds = time.perf_counter() - started
    pinned = sum(1 for count in narrowed.values() if count == 1)
    print(f"months: {len(months)} ({months[0]:%Y-%m} … {months[-1]:%Y-%m})")
    print(f"reports attacked (scopes × versions): {reports} ({reports - corrections} first versions, "
          f"{corrections} corrections), {result.tables} tables")
    print(f"hidden counts attacked: {len(result.hidden)} ({len(result.index)} unknowns, {len(result.rows)} lines)")
    print(f"pinned to one value: {pinned}")
    print(f"narrowed below three values: {len(narrowed)}")
    print(f"attack took {seconds:.1f} s (program built in {built:.1f} s; {result.solves} integer programs solved; "
          + ", ".join(f"{k}: {v}" for k, v in result.stats.items()) + ")")
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for (tag, (population, filters)), count in sorted(narrowed.items(), key=repr):
        entry = ", ".join(f"{d}={v}" for d, v in sorted(filters)) or "total"
        shown = "; ".join(f"{scope} {table} [{i},{j}] {value!r}"
                          for _t, scope, table, i, j, value in result.where((tag, (population, filters))))
        print(f"  LEAK {tag[0]:%Y-%m} {'/'.join(map(str, tag[1:]))} {population} ({entry}): "
              f"{count} value{'s' if count > 1 else ''}; published as {shown}")
    return len(narrowed)


def plant(systems: dict) -> None:
    attack = Attack(systems)
    attack._prepare()
    components: dict = defaultdict(list)
    for var in attack.hidden:
        components[attack.component_of[var]].append(var)
    component, hidden = max(components.items(), key=lambda item: (len(item[1]), item[0]))
    point = attack._solve([component], {})
    target, *others = sorted(hidden)
    reveal = {attack._names[v]: point[v] for v in others}
    planted = copy.deepcopy(systems)
    for tag, reports in planted.items():
        for report in reports:
            for table in report["tables"]:
                for key, value, _t, (i, j, m, n, _k) in list(entries({"scope": report["scope"], "tables": [table]})):
                    if (tag, key) not in reveal or isinstance(value, int):
                        continue
                    if i < m - 1 and j < n - 1:
                        table["cells"][i][j] = reveal[(tag, key)]
                    elif i < m - 1:
                        table["row_totals"][i] = reveal[(tag, key)]
                    elif j < n - 1:
                        table["column_totals"][j] = reveal[(tag, key)]
                    else:
                        table["total"] = reveal[(tag, key)]
    started = time.perf_counter()
    found = Attack(planted).narrowed()
    name = attack._names[target]
    print(f"planted leak: {len(others)} hidden counts of one component published, the attack pins "
          f"{name[1][0]} {sorted(name[1][1])} of {name[0][0]:%Y-%m}: {found.get(name) == 1} "
          f"({len(found)} narrowed, {time.perf_counter() - started:.1f} s)")
    if found.get(name) != 1:
        sys.exit(1)


def main() -> None:
    if "--load" in sys.argv:
        with open(sys.argv[sys.argv.index("--load") + 1], "rb") as f:
            systems = pickle.load(f)  # noqa: S301 (a file this script wrote)
    else:
        ensure_database()
        call_command("migrate", verbosity=0)
        print(f"database: {connection.settings_dict['NAME']}")
        started = time.perf_counter()
        seed_demo_world()
        build_and_correct()
        print(f"demo world, {MONTHS} months built and corrected in {time.perf_counter() - started:.0f} s")
        systems = published_systems()
        if "--dump" in sys.argv:
            with open(sys.argv[sys.argv.index("--dump") + 1], "wb") as f:
                pickle.dump(systems, f)
    if attack(systems):
        sys.exit(1)
    if "--plant" in sys.argv:
        plant(systems)


if __name__ == "__main__":
    main()
