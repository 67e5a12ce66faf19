"""What do the handoff figures' statement triggers cost a statement that changes many rows, with the trigger
functions of supervision migration 0007 (before) and of 0009 (after)? Run against a copy of the seeded world:

    createdb -h 127.0.0.1 -U postgres -T hopluc_tpl hl_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_bench .venv/bin/python benchmarks/trigger_bulk.py \
        [--sizes 1000,4000,16000] [--timeout 60]

Each measurement is one transaction, rolled back: the version's functions are put in place (CREATE OR
REPLACE, undone by the rollback), then, "warm", one statement of the same kind on one row plans the
functions' statements for one row as a long-lived connection of the application has them (plpgsql keeps
a statement's plan for the session), or, "cold", nothing; then the statement on N rows runs under EXPLAIN
ANALYZE and each statement trigger's time is printed (statement_timeout stops a run after --timeout s).
The database is changed once, before the runs: closed handoffs are copied until there are enough rows.
"""

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.utils import OperationalError  # noqa: E402

VERSIONS = {
    "0007": lambda: importlib.import_module("supervision.migrations.0009_figures_linear_triggers")._previous(),
    "0009": lambda: importlib.import_module("supervision.migrations.0009_figures_linear_triggers")._functions(),
}
_FIRST = "SELECT id FROM {table} ORDER BY id LIMIT {n}"
# (name, table, statement on the first {n} rows by id): each changes what the figures count.
STATEMENTS = (
    ("handoff update", "cases_handoff",
     "UPDATE cases_handoff SET viewed_at = COALESCE(viewed_at, sent_at) + interval '1 minute', "
     "due_at = due_at + interval '1 day' WHERE id IN (" + _FIRST + ")"),
    ("action update", "cases_action",
     "UPDATE cases_action SET occurred_at = occurred_at - interval '1 hour' WHERE id IN (" + _FIRST + ")"),
    ("handoff delete", "cases_handoff", "DELETE FROM cases_handoff WHERE id IN (" + _FIRST + ")"),
)
_CLOSED_COLUMNS = ("kind, services, urgency, categories, message, emergency_override, override_reason, status, "
                   "sent_at, due_at, viewed_at, responded_at, decline_reason, completed_at, outcome, withdrawn_at, "
                   "withdraw_reason, case_id, closed_by_id, from_agency_id, responded_by_id, sent_by_id, to_agency_id, "
                   "viewed_by_id, decline_reason_key")


def ensure_handoffs(cursor, n: int) -> None:
    """At least n handoffs: closed ones (no unique constraint on them) copied, committed."""
    while True:
        cursor.execute("SELECT count(*) FROM cases_handoff")
        (count,) = cursor.fetchone()
        if count >= n:
            return
        with transaction.atomic():
            cursor.execute(f"INSERT INTO cases_handoff ({_CLOSED_COLUMNS}) SELECT {_CLOSED_COLUMNS} FROM cases_handoff "  # noqa: S608
                           "WHERE status IN ('declined', 'completed', 'withdrawn') ORDER BY id LIMIT %s", [n - count])


def trigger_times(plan: list) -> dict[str, float]:
    return {t["Trigger Name"]: t["Time"] for t in plan[0].get("Triggers", [])}


def measure(cursor, version: str, sql: str, table: str, n: int, *, warm: bool, timeout: int) -> dict[str, float] | None:
    try:
        with transaction.atomic():
            for function in VERSIONS[version]():
                cursor.execute(function)
            if warm:
                cursor.execute(sql.format(table=table, n=1))
            cursor.execute(f"SET LOCAL statement_timeout = '{timeout}s'")
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql.format(table=table, n=n))
            (plan,) = cursor.fetchone()
            transaction.set_rollback(True)
    except OperationalError:  # statement_timeout
        return None
    return trigger_times(plan if isinstance(plan, list) else json.loads(plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,4000,16000")
    parser.add_argument("--timeout", type=int, default=60)
    parser.add_argument("--statements", default=",".join(name for name, _t, _s in STATEMENTS))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    assert connection.vendor == "postgresql", "the triggers are PostgreSQL's"
    with connection.cursor() as cursor:
        ensure_handoffs(cursor, max(sizes))
        print(f"{'statement':<16} {'rows':>6} {'plans':<5} {'version':<7} figures trigger ms   (other triggers, ms)")
        for name, table, sql in STATEMENTS:
            if name not in args.statements.split(","):
                continue
            for n in sizes:
                for warm in (True, False):
                    for version in ("0007", "0009"):
                        times = measure(cursor, version, sql, table, n, warm=warm, timeout=args.timeout)
                        if times is None:
                            shown, others = f"> {args.timeout * 1000:,}", ""
                        else:
                            figures = sum(ms for t, ms in times.items() if t.startswith("supervision_figures"))
                            shown = f"{figures:,.1f}"
                            others = ", ".join(f"{t.removeprefix('supervision_')} {ms:,.0f}" for t, ms in times.items()
                                               if not t.startswith("supervision_figures") and ms >= 1)
                        print(f"{name:<16} {n:>6} {'warm' if warm else 'cold':<5} {version:<7} {shown:>18}   {others}",
                              flush=True)


if __name__ == "__main__":
    main()
