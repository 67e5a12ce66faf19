"""What do per-case data keys cost a list page? Run against the database that DATABASE_URL names:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_bench .venv/bin/python benchmarks/case_keys.py [N]

Works in a throwaway test database (created and dropped here). N survivors, each with a key of its
own, are written, then read back as a list page does (one query for the rows) with a cold key cache:
every key is unwrapped in one more query, whatever N, and the time per row is printed.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection, reset_queries, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from benchmarks.throwaway_db import throwaway_database  # noqa: E402
from cases.models import Survivor  # noqa: E402
from encryption import crypto  # noqa: E402


def main(n: int) -> None:
    with throwaway_database("keys_bench"):
        started = time.perf_counter()
        with transaction.atomic():
            for i in range(n):
                Survivor.objects.create(pseudonym=f"NC-B{i:06d}", full_name=f"Người thử {i}", phone="0912345678",
                                        address=f"{i} phố Huế")
        seconds = time.perf_counter() - started
        print(f"{'write (key row + 3 sealed fields)':<40} {n:>6} rows  {1000 * seconds / n:7.3f} ms/row")
        for label, cold in (("list read, cold key cache", True), ("list read, keys cached", False)):
            if cold:
                crypto.key_cache_clear()
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                rows = list(Survivor.objects.order_by("id"))
                names = [(s.full_name, s.phone, s.address) for s in rows]
                seconds = time.perf_counter() - started
            assert names[-1][0] == f"Người thử {n - 1}"
            print(f"{label:<40} {n:>6} rows  {len(queries):>3} queries  {1000 * seconds:8.1f} ms  "
                  f"{1000 * seconds / n:7.3f} ms/row")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
