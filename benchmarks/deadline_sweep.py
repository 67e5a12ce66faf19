"""How fast does one worker sweep a backlog of due deadlines? Run against the database DATABASE_URL names:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hopluc_x REDIS_URL=redis://127.0.0.1:6379/N \\
        .venv/bin/python benchmarks/deadline_sweep.py [N]

Works in a database of its own beside that one (`<name>_sweep_bench`, created and migrated on the first
run and kept for the next). It builds a small world once (12 provinces, 120 agencies with responders
and supervisors, province coordinators, 60 cases opened through the services), then bulk-inserts N
deadlines (default 100,000) that are all due, one stage each: half for a reminder, three tenths
overdue, a fifth for escalation; half of them case deadlines (told on the case timeline when overdue
or escalated), half handoff response deadlines; a third with an owner. Then it times
`deadline_sweep()` by this one process and prints seconds, deadlines/s, queries (per batch and per
deadline), the rows written and the load average before and after. Outbox publishes to the broker,
if the code makes any, go to REDIS_URL's database and are purged at the end.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

import collections  # noqa: E402
import datetime  # noqa: E402
import logging  # noqa: E402
import secrets  # noqa: E402

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

PROVINCES = 12
AGENCIES_PER_PROVINCE = 10
CASES = 60


def world() -> dict:
    """Agencies, people and cases, made once per benchmark database (through the services)."""
    from agencies.models import Agency, Membership, Province, Sector
    from agencies.services import agency_create
    from cases.serializers import CaseOpenInputSerializer
    from cases.services import case_open
    from config.api import input_validate
    from notifications.models import ProvinceCoordinator, UserContact

    User = get_user_model()
    with transaction.atomic():
        if not Agency.objects.filter(name__startswith="Bench ").exists():
            password = make_password("bench-password-not-used")
            provinces = []
            for p in range(PROVINCES):
                province, _created = Province.objects.get_or_create(
                    code=f"9{p:02d}", defaults={"name": f"Tỉnh thử {p}", "name_ascii": f"Tinh thu {p}",
                                                 "abbreviation": f"B{p:02d}", "type": "province",
                                                 "valid_from": "2025-07-01"})
                provinces.append(province)
            sectors = [Sector.POLICE, Sector.HEALTH, Sector.EDUCATION]
            for province in provinces:
                for a in range(AGENCIES_PER_PROVINCE):
                    agency = agency_create(name=f"Bench {province.code}-{a}", sector=sectors[a % 3], province=province)
                    users = User.objects.bulk_create([
                        User(username=f"bench_{agency.pk}_{role}_{n}", password=password,
                             email=f"bench_{agency.pk}_{role}_{n}@example.invalid")
                        for role, count in (("responder", 3), ("supervisor", 2)) for n in range(count)
                    ])
                    Membership.objects.bulk_create([
                        Membership(user=user, agency=agency, role=user.username.split("_")[2]) for user in users
                    ])
                    UserContact.objects.bulk_create([
                        UserContact(user=user, phone=f"+8491{user.pk:07d}") for user in users[::2]
                    ])
                coordinator = User.objects.create(username=f"bench_coord_{province.code}", password=password,
                                                  email=f"bench_coord_{province.code}@example.invalid")
                ProvinceCoordinator.objects.create(user=coordinator, province=province)
            agencies = list(Agency.objects.filter(name__startswith="Bench ").order_by("pk"))
            today = timezone.localdate()
            for n in range(CASES):
                agency = agencies[n % len(agencies)]
                responder = User.objects.get(username=f"bench_{agency.pk}_responder_0")
                # What the API hands the service: the request body checked by the operation's input.
                case_open(actor=responder, agency=agency, **input_validate(CaseOpenInputSerializer, {
                    "consent": None, "risk_level": "medium",
                    "survivor": {"full_name": "Trần Thị Mai", "phone": "0987 000 111", "sex": "female",
                                 "birth_year": 1990, "disability": "none", "ethnicity": "Kinh"},
                    "incident": {"occurred_on": (today - datetime.timedelta(days=3)).isoformat(),
                                 "reported_on": today.isoformat(), "province": agency.province.code,
                                 "answers": {"penetration": False, "sexual_contact": False, "physical_assault": True,
                                             "forced_marriage": False, "denial_of_resources": False,
                                             "psychological_abuse": False}, "tech_forms": ["harassment"],
                                 "perpetrator_relationship": "intimate_partner"},
                }))
    from cases.models import Case

    agencies = list(Agency.objects.filter(name__startswith="Bench ").order_by("pk"))
    owners = {
        agency_id: user_id for agency_id, user_id in Membership.objects.filter(
            agency__in=agencies, role="responder", user__username__endswith="_responder_1"
        ).values_list("agency_id", "user_id")
    }
    cases = list(Case.objects.filter(lead_agency__in=agencies).values_list("pk", "number", "lead_agency_id"))
    return {"agencies": agencies, "owners": owners, "cases": cases}


def due_deadlines(n: int, now: datetime.datetime, data: dict) -> None:
    from cases.models import CaseEvent
    from notifications.models import Deadline, Notification, OutboxMessage

    CaseEvent.objects.filter(type__startswith="deadline_").delete()
    # The previous run's rows, in slices: one delete() of a whole run's 216,666 notifications (or 100,000
    # deadlines) made Django's collector send a statement with more parameters than PostgreSQL takes (65,535).
    for model in (OutboxMessage, Notification, Deadline):
        while ids := list(model.objects.order_by("pk").values_list("pk", flat=True)[:10_000]):
            model.objects.filter(pk__in=ids).delete()
    hour = datetime.timedelta(hours=1)
    agencies, owners, cases = data["agencies"], data["owners"], data["cases"]
    stages = [
        # (stage, remind, due, escalate, next_fire_at) relative to now, in hours
        ("pending", -1, 2, 5, -1), ("pending", -1, 2, 5, -1), ("pending", -1, 2, 5, -1),
        ("pending", -1, 2, 5, -1), ("pending", -1, 2, 5, -1),
        ("reminded", -3, -1, 2, -1), ("reminded", -3, -1, 2, -1), ("reminded", -3, -1, 2, -1),
        ("overdue", -5, -3, -1, -1), ("overdue", -5, -3, -1, -1),
    ]
    rows = []
    for i in range(n):
        stage, remind, due, escalate, fire = stages[i % len(stages)]
        case_id, number, lead_id = cases[i % len(cases)]
        if i % 2 == 0:
            agency_id = lead_id
            kind, subject, link, escalate_agency_id = (
                "follow_up", f"case:{case_id}:follow_up:{secrets.token_hex(4)}", f"/cases/{case_id}/", None)
        else:
            agency_id = agencies[(i // 2) % len(agencies)].pk
            kind, subject, link, escalate_agency_id = (
                "handoff_response", f"handoff:{i}", f"/cases/{case_id}/handoffs/{i}/", lead_id)
        rows.append(Deadline(
            kind=kind, subject=subject, case_id=case_id, case_number=number, link=link, owner_agency_id=agency_id,
            owner_user_id=owners.get(agency_id) if i % 3 == 0 else None, escalate_agency_id=escalate_agency_id,
            remind_at=now + remind * hour, due_at=now + due * hour, escalate_at=now + escalate * hour,
            stage=stage, next_fire_at=now + fire * hour,
        ))
    Deadline.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE notifications_deadline")


def purge_broker() -> int:
    from config.celery import app

    with app.connection_for_write() as conn:
        return conn.default_channel.queue_purge(settings.NOTIFICATIONS_QUEUE) or 0


def main(n: int) -> None:
    from cases.models import CaseEvent
    from notifications.models import Notification, OutboxMessage
    from notifications.services import deadline_sweep

    logging.disable(logging.WARNING)
    settings_dict = connection.settings_dict
    settings_dict["TEST"] = {**settings_dict.get("TEST", {}), "NAME": f"{settings_dict['NAME']}_sweep_bench"}
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=True)
    print(f"backend: {connection.vendor}, database: {connection.settings_dict['NAME']}, deadlines: {n}")
    data = world()
    now = timezone.now()
    started = time.perf_counter()
    due_deadlines(n, now, data)
    print(f"setup: {n} due deadlines inserted in {time.perf_counter() - started:.1f} s")
    purge_broker()

    queries = [0]
    # Seconds spent in each kind of statement (its first words and table), to show where the time goes.
    spent: collections.Counter = collections.Counter()

    def count(execute, sql, params, many, context):
        queries[0] += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[" ".join(sql.split()[:4])[:90]] += time.perf_counter() - started

    load_before = os.getloadavg()
    with connection.execute_wrapper(count):
        started = time.perf_counter()
        fired = deadline_sweep(now=now)
        seconds = time.perf_counter() - started
    load_after = os.getloadavg()
    batch = getattr(settings, "DEADLINE_SWEEP_BATCH", 1)
    batches = max(-(-n // batch), 1)
    print(f"swept: {fired} stages fired in {seconds:.1f} s = {fired / seconds:.0f} deadlines/s "
          f"(target: 100,000 in <= 60 s)")
    print(f"queries: {queries[0]} in all, {queries[0] / batches:.1f} per batch of {batch}, "
          f"{queries[0] / max(fired, 1):.2f} per deadline")
    print(f"written: {Notification.objects.count()} notifications, {OutboxMessage.objects.count()} outbox rows, "
          f"{CaseEvent.objects.filter(type__startswith='deadline_').count()} timeline events")
    print(f"load average (1, 5, 15 min): before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    print(f"broker messages published and purged: {purge_broker()}")
    print("slowest statements (seconds in all):")
    for statement, total in spent.most_common(8):
        print(f"  {total:7.1f}  {statement}")
    with transaction.atomic():
        pass


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
