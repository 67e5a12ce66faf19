"""How long does one national month of the monthly report take over 200,000 cases?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_reports_bench \\
        .venv/bin/python benchmarks/reports_national_month.py [--cases 200000] [--reseed]

Uses the database DATABASE_URL names (created if missing, migrated, seeded once with synthetic
rows through bulk_create; --reseed empties the case tables first). No names or other personal
data are generated: survivors are a pseudonym, a sex and a birth year.

Measures, for October 2026 (cases spread over January 2025 – October 2026):
  1. the indicator queries of every scope (national + 34 provinces),
  2. the statistics (the median time to accept a referral, every scope),
  3. disclosure control over all of those tables together: the pattern (reports.disclosure) and the
     joint check (reports.joint), timed separately,
  4. publishing: the above plus writing the 35 snapshots (rolled back afterwards).

Besides cases, incidents and actions it seeds referrals (two cases in five), their response
deadlines and follow-up deadlines, and a TakedownRequest for every takedown_requested action; a
database seeded before those existed gets them on the next run.
"""

import argparse
import datetime
import os
import pickle
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from agencies.models import Agency, Province, Sector  # noqa: E402
from agencies.services import agency_create, province_load_reference  # noqa: E402
from cases.models import (  # noqa: E402
    Action,
    ActionType,
    Case,
    CaseEvent,
    Consent,
    GbvType,
    Incident,
    IncidentTechForm,
    ReportingDelay,
    Survivor,
    TechForm,
)
from config.formats import VIETNAM  # noqa: E402
from encryption.crypto import reason_key  # noqa: E402
from handoffs.models import Handoff, Urgency  # noqa: E402
from notifications.models import Deadline  # noqa: E402
from reports.coordination import month_statistics  # noqa: E402
from reports.indicators import INDICATORS, Month, month_drafts, month_scope_provinces  # noqa: E402
from reports.protection import additive_lines, protect_month  # noqa: E402
from reports.publication import month_publishable, thresholds  # noqa: E402
from reports.services import monthly_reports_build  # noqa: E402
from takedowns.models import TakedownOutcome, TakedownPlatform, TakedownRequest  # noqa: E402

PERIOD = datetime.date(2026, 10, 1)
FIRST_DAY = datetime.date(2025, 1, 1)
LAST_DAY = datetime.date(2026, 10, 31)
BATCH = 5000


class Rollback(Exception):
    pass


def ensure_database() -> None:
    database = settings.DATABASES["default"]
    if connection.vendor != "postgresql":
        sys.exit("This benchmark runs on PostgreSQL: set DATABASE_URL.")
    with psycopg.connect(
        host=database["HOST"], port=database["PORT"] or 5432, user=database["USER"],
        password=database["PASSWORD"] or None, dbname="postgres", autocommit=True,
    ) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database["NAME"]]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{database["NAME"]}"')


def seed(total: int, *, reseed: bool) -> None:
    if reseed:
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE reports_monthlyreport, cases_takedownrequest, cases_handoff, notifications_deadline, "
                "cases_incidenttechform, cases_incident, cases_action, "
                "cases_caseevent, cases_consent, cases_casegroupobjectpermission, cases_caseuserobjectpermission, "
                "cases_case, cases_survivor CASCADE"
            )
    if Case.objects.count() >= total:
        print(f"seed: {Case.objects.count()} cases already there")
        return
    started = time.perf_counter()
    province_load_reference()
    provinces = list(Province.objects.order_by("code"))
    user, _ = get_user_model().objects.get_or_create(username="bench.responder")
    agencies: dict[tuple[int, str], Agency] = {}
    for province in provinces:
        for sector in (Sector.POLICE, Sector.HEALTH, Sector.EDUCATION, Sector.SOCIAL_WORK, Sector.WOMENS_UNION):
            name = f"Bench {sector.value} {province.code}"
            agency = Agency.objects.filter(province=province, name=name).first()
            agencies[(province.pk, sector.value)] = agency or agency_create(name=name, sector=sector, province=province)
    rng = random.Random(200_000)
    # Big cities report more: a few heavy provinces, the rest light.
    weights = [8 if p.code in ("01", "79") else 3 if p.code in ("31", "48", "92") else 1 for p in provinces]
    span = (LAST_DAY - FIRST_DAY).days
    types = GbvType.values
    type_weights = [12, 10, 25, 3, 8, 30, 12]
    sectors = ("police", "health", "education", "social_work", "womens_union")
    action_types = ActionType.values
    done = Case.objects.count()
    while done < total:
        n = min(BATCH, total - done)
        sexes = ("female",) * 8 + ("male", "male", "other", "unknown")
        survivors = [
            Survivor(pseudonym=f"B{done + k:09d}", sex=rng.choice(sexes),
                     birth_year=None if rng.random() < 0.07 else rng.randint(1950, 2024))
            for k in range(n)
        ]
        Survivor.objects.bulk_create(survivors, batch_size=BATCH)
        cases = []
        for k, survivor in enumerate(survivors):
            province = rng.choices(provinces, weights)[0]
            day = FIRST_DAY + datetime.timedelta(days=rng.randint(0, span))
            at = datetime.time(rng.randint(0, 23), rng.randint(0, 59))
            opened = datetime.datetime.combine(day, at, tzinfo=VIETNAM)
            closed = opened + datetime.timedelta(days=rng.randint(5, 120)) if rng.random() < 0.4 else None
            cases.append(Case(
                number=f"{province.abbreviation}-B-{done + k:09d}", province=province, survivor=survivor,
                lead_agency=agencies[(province.pk, rng.choice(sectors))], responsible=user,
                statistics_consent=rng.random() < 0.95, created_at=opened, closed_at=closed,
                status="closed" if closed else "open",
            ))
        Case.objects.bulk_create(cases, batch_size=BATCH)
        incidents, actions = [], []
        for case in cases:
            reported = case.created_at.astimezone(VIETNAM).date()
            delay = rng.choice((0, 0, 1, 2, 3, 4, 7, 10, 20, 45))
            incidents.append(Incident(
                case=case, reported_on=reported,
                occurred_on=None if rng.random() < 0.1 else reported - datetime.timedelta(days=delay),
                province=case.province, gbv_type=rng.choices(types, type_weights)[0],
                reporting_delay=rng.choice(ReportingDelay.values), recorded_by=user,
                recorded_by_agency=case.lead_agency,
            ))
            for _ in range(rng.randint(1, 4)):
                sector = rng.choice(sectors)
                actions.append(Action(
                    case=case, type=rng.choice(action_types), category=rng.choice(("general", "medical")),
                    occurred_at=case.created_at + datetime.timedelta(hours=rng.randint(0, 24 * 20)), actor=user,
                    agency=agencies[(case.province_id, sector)],
                ))
        Incident.objects.bulk_create(incidents, batch_size=BATCH)
        IncidentTechForm.objects.bulk_create(
            [IncidentTechForm(incident=i, form=rng.choice(TechForm.values)) for i in incidents if rng.random() < 0.2],
            batch_size=BATCH,
        )
        Action.objects.bulk_create(actions, batch_size=BATCH)
        done += n
        print(f"seed: {done} cases, {time.perf_counter() - started:.0f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seed: done in {time.perf_counter() - started:.0f} s; "
          f"{Incident.objects.count()} incidents, {Action.objects.count()} actions, "
          f"{CaseEvent.objects.count() + Consent.objects.count()} events/consents")


RESPONSE_TIME = {
    Urgency.EMERGENCY: datetime.timedelta(hours=1), Urgency.URGENT: datetime.timedelta(hours=12),
    Urgency.STANDARD: datetime.timedelta(days=3),
}


def seed_coordination() -> None:
    """Referrals, deadlines and takedown requests for the cases already seeded."""
    if Handoff.objects.exists():
        print(f"seed: {Handoff.objects.count()} handoffs already there")
        return
    started = time.perf_counter()
    rng = random.Random(40_000)
    user = get_user_model().objects.get(username="bench.responder")
    by_province: dict[int, list[int]] = {}
    for agency_id, province_id in Agency.objects.filter(name__startswith="Bench ").values_list("pk", "province_id"):
        by_province.setdefault(province_id, []).append(agency_id)
    urgencies = (Urgency.EMERGENCY, Urgency.URGENT, Urgency.URGENT, Urgency.STANDARD, Urgency.STANDARD)
    waits = [0.2, 0.5, 1, 2, 4, 8, 12, 20, 30, 48, 72, 100]
    last_pk = 0
    while True:
        rows = list(
            Case.objects.filter(pk__gt=last_pk).order_by("pk")
            .values_list("pk", "number", "lead_agency_id", "province_id", "created_at")[:BATCH]
        )
        if not rows:
            break
        last_pk = rows[-1][0]
        handoffs, deadlines = [], []
        for pk, number, lead_id, province_id, created_at in rows:
            if rng.random() < 0.4:
                to_id = rng.choice([a for a in by_province[province_id] if a != lead_id])
                urgency = rng.choice(urgencies)
                sent = created_at + datetime.timedelta(hours=rng.randint(0, 72))
                due = sent + RESPONSE_TIME[urgency]
                roll = rng.random()
                status = "accepted" if roll < 0.75 else "declined" if roll < 0.85 else "sent" if roll < 0.95 \
                    else "withdrawn"
                answered = sent + datetime.timedelta(hours=rng.choice(waits)) if status in ("accepted", "declined") \
                    else None
                handoffs.append(Handoff(
                    case_id=pk, kind="referral", from_agency_id=lead_id, to_agency_id=to_id, services=["counselling"],
                    urgency=urgency, status=status, sent_by=user, sent_at=sent, due_at=due, responded_at=answered,
                    responded_by=user if answered else None,
                    decline_reason="Không đủ điều kiện" if status == "declined" else "",
                    decline_reason_key=reason_key("Không đủ điều kiện") if status == "declined" else None,
                ))
                deadlines.append(Deadline(
                    kind=Deadline.Kind.HANDOFF_RESPONSE, subject=f"bench-handoff:{pk}", case_id=pk, case_number=number,
                    owner_agency_id=to_id, due_at=due, remind_at=due, escalate_at=due + datetime.timedelta(hours=1),
                    stage="closed" if answered else "escalated", closed_at=answered,
                    next_fire_at=None,
                ))
            if rng.random() < 0.3:
                due = created_at + datetime.timedelta(days=rng.randint(1, 30))
                closed = due - datetime.timedelta(hours=rng.randint(-48, 48)) if rng.random() < 0.8 else None
                deadlines.append(Deadline(
                    kind=Deadline.Kind.FOLLOW_UP, subject=f"bench-follow-up:{pk}", case_id=pk, case_number=number,
                    owner_agency_id=lead_id, due_at=due, remind_at=due, escalate_at=due + datetime.timedelta(days=1),
                    stage="closed" if closed else "overdue", closed_at=closed, next_fire_at=None,
                ))
        Handoff.objects.bulk_create(handoffs, batch_size=BATCH)
        Deadline.objects.bulk_create(deadlines, batch_size=BATCH)
    outcomes, platforms = TakedownOutcome.values, TakedownPlatform.values
    last_pk = 0
    while True:
        actions = list(
            Action.objects.filter(type=ActionType.TAKEDOWN_REQUESTED, pk__gt=last_pk).order_by("pk")
            .values_list("pk", "case_id", "occurred_at")[:BATCH]
        )
        if not actions:
            break
        last_pk = actions[-1][0]
        requests = []
        for pk, case_id, occurred_at in actions:
            outcome = rng.choice(outcomes)
            requests.append(TakedownRequest(
                case_id=case_id, action_id=pk, platform=rng.choice(platforms), content_reference_hash=f"{pk:064x}",
                requested_at=occurred_at, outcome=outcome,
                resolved_at=None if outcome == "pending"
                else occurred_at + datetime.timedelta(hours=rng.randint(1, 96)),
            ))
        TakedownRequest.objects.bulk_create(requests, batch_size=BATCH)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seed: coordination done in {time.perf_counter() - started:.0f} s; {Handoff.objects.count()} referrals, "
          f"{Deadline.objects.count()} deadlines, {TakedownRequest.objects.count()} takedown requests")


REPEAT = 3


def timed(label: str, function, repeat: int | None = None):
    """Wall time of each run (median, best, worst) and the CPU time of this process: other work on
    the shared machine stretches the wall time, not the CPU time."""
    times, cpu, result = [], [], None
    for _ in range(repeat or REPEAT):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = function()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    print(f"{label:<56} median {statistics.median(times):6.2f} s   best {min(times):6.2f} s   "
          f"worst {max(times):6.2f} s   (CPU median {statistics.median(cpu):6.2f} s; load {os.getloadavg()[0]:.1f})")
    return result


def publish_and_roll_back():
    try:
        with transaction.atomic():
            outcome = monthly_reports_build(period=PERIOD, today=datetime.date(2026, 11, 1))
            assert len(outcome.created) >= 35, outcome
            raise Rollback
    except Rollback:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timed step")
    parser.add_argument("--dump", metavar="FILE", help="pickle the month's TableDrafts, thresholds and lines to FILE")
    parser.add_argument("--dump-only", action="store_true", help="with --dump: stop after writing it")
    args = parser.parse_args()
    global REPEAT
    REPEAT = args.repeat
    ensure_database()
    call_command("migrate", verbosity=0)
    seed(args.cases, reseed=args.reseed)
    seed_coordination()
    in_month = Case.objects.filter(created_at__gte=datetime.datetime(2026, 10, 1, tzinfo=VIETNAM),
                                   created_at__lt=datetime.datetime(2026, 11, 1, tzinfo=VIETNAM)).count()
    print(f"database: {connection.settings_dict['NAME']}; {Case.objects.count()} cases in all, "
          f"{in_month} opened in {PERIOD:%Y-%m}")
    if args.dump:
        # protect_month is a pure function: its inputs, pickled, let it be measured without the
        # database (benchmarks/reports_protect_pickle.py).
        _, dumped = month_drafts(PERIOD)
        with open(args.dump, "wb") as handle:
            pickle.dump({"order": [(scope, d) for scope, ds in dumped.items() for d in ds], "limits": thresholds(),
                         "additive": additive_lines(dumped)}, handle)
        print(f"wrote {args.dump}")
        if args.dump_only:
            return
    month_publishable(PERIOD)  # warm-up: connection, plans, caches
    _, drafts = timed("indicator queries (all 35 scopes)", lambda: month_drafts(PERIOD))
    codes, names = month_scope_provinces(PERIOD)
    month = Month(period=PERIOD, province_codes=codes, province_names=names)
    timed("statistics: median time to accept (all scopes)", lambda: month_statistics(month))
    per_table = []
    for key, function in INDICATORS.items():
        started = time.perf_counter()
        function(month)
        per_table.append((time.perf_counter() - started, key))
    print("  per table (one run): " + ", ".join(f"{key} {seconds:.2f}" for seconds, key in sorted(per_table)[::-1]))
    limits = thresholds()
    order = [(scope, d) for scope, ds in drafts.items() for d in ds]
    additive = additive_lines(drafts)
    runs = []

    def protect():
        outcome = protect_month(order, limits, additive=additive)
        runs.append(outcome)
        return outcome

    protection = timed("disclosure control: pattern + joint check", protect)
    results = protection.results
    withheld = sum(r.withheld for r in results)
    hidden = sum(len(r.hidden) for r in results)
    entries = sum(len(r.grid) * len(r.grid[0]) for r in results)
    print(f"  pattern median {statistics.median(r.pattern_seconds for r in runs):.2f} s wall "
          f"({statistics.median(r.pattern_cpu for r in runs):.2f} s CPU), "
          f"joint check median {statistics.median(r.check_seconds for r in runs):.2f} s wall "
          f"({statistics.median(r.check_cpu for r in runs):.2f} s CPU), rounds {[r.rounds for r in runs]}")
    print(f"  {len(results)} tables, {entries} entries, {hidden} hidden, {withheld} tables withheld; "
          f"populations withheld: {sorted(protection.withheld_populations) or 'none'}; check {protection.stats}")
    timed("TOTAL: one national month published (35 reports, rolled back)", publish_and_roll_back)
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
