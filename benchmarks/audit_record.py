"""How fast can the audit trail be written? Run against the database that DATABASE_URL names:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_bench .venv/bin/python benchmarks/audit_record.py [N]

Works in a throwaway test database (created and dropped here), with one writer:
  1. one event per transaction (a request that records one event),
  2. many events in one transaction (a list page recording one event per case shown),
  3. the verification walk over everything written.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from audit.selectors import audit_chain_verify  # noqa: E402
from audit.services import audit_record  # noqa: E402


def record(i: int) -> None:
    audit_record(
        actor=None, action="view", case_id=i % 500, agency_id=i % 40, categories=["identity", "medical"],
        target=f"case:{i % 500}", details={"fields": ["name", "phone"], "i": i},
    )


def rate(label: str, count: int, seconds: float) -> None:
    print(f"{label:<44} {count:>6} events  {seconds:6.2f} s  {count / seconds:8.0f} events/s  "
          f"{1000 * seconds / count:6.3f} ms/event")


def main(n: int) -> None:
    settings_dict = connection.settings_dict
    settings_dict["TEST"] = {**settings_dict.get("TEST", {}), "NAME": f"{settings_dict['NAME']}_audit_bench"}
    if connection.vendor == "sqlite":
        settings_dict["TEST"]["NAME"] = str(Path(settings_dict["NAME"]).with_suffix(".audit-bench.sqlite3"))
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        print(f"backend: {connection.vendor}, database: {connection.settings_dict['NAME']}")
        for i in range(50):  # warm up connection, caches, prepared plans
            with transaction.atomic():
                record(i)

        started = time.perf_counter()
        for i in range(n):
            with transaction.atomic():
                record(i)
        rate("one event per transaction", n, time.perf_counter() - started)

        started = time.perf_counter()
        with transaction.atomic():
            for i in range(n):
                record(i)
        rate("all events in one transaction", n, time.perf_counter() - started)

        started = time.perf_counter()
        report = audit_chain_verify()
        seconds = time.perf_counter() - started
        assert report.intact, report.breaks
        print(f"{'verify_audit_chain walk':<44} {report.events:>6} events  {seconds:6.2f} s  "
              f"{report.events / seconds:8.0f} events/s")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
