"""How fast can the audit trail be written? Run against the database that DATABASE_URL names:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_bench .venv/bin/python benchmarks/audit_record.py \\
        [N [WRITERS ...]]

(WRITERS: the numbers of concurrent writers to measure, 1 2 4 8 by default.)

Works in a throwaway test database (created and dropped here), with one writer:
  1. one event per transaction (a request that records one event),
  2. many events in one transaction (a list page recording one event per case shown),
  3. the verification walk over everything written,
  4. concurrent writers (threads, one connection each, one event per transaction), without and with
     an anchor writer signing the head every 50 ms (100 times more often than the 5-minute default,
     so that any cost it has shows). Writers take no lock: each chains after its commit when no other
     chainer is at work; printed are the events still unchained when the writers stop and the time the
     last chainer run takes to catch up.

To compare with the design before (every writer held the chain lock until its commit), run this file
from a checkout of that commit in the same minutes (README, "Audit write throughput").
"""

import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connections, transaction  # noqa: E402

from audit.models import AuditEvent  # noqa: E402
from audit.selectors import audit_chain_verify  # noqa: E402
from audit.services import audit_chain_pending, audit_checkpoint_write, audit_record  # noqa: E402
from benchmarks.throwaway_db import throwaway_database  # noqa: E402


def record(i: int) -> None:
    audit_record(
        actor=None, action="view", case_id=i % 500, agency_id=i % 40, categories=["identity", "medical"],
        target=f"case:{i % 500}", details={"fields": ["name", "phone"], "i": i},
    )


def rate(label: str, count: int, seconds: float) -> None:
    print(f"{label:<44} {count:>6} events  {seconds:6.2f} s  {count / seconds:8.0f} events/s  "
          f"{1000 * seconds / count:6.3f} ms/event")


def main(n: int, writers: tuple[int, ...] = (1, 2, 4, 8)) -> None:
    # One log line per anchor would drown the numbers.
    logging.getLogger("hopluc.audit").setLevel(logging.WARNING)
    with throwaway_database("audit_bench"):
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
        for threads in writers:
            for anchoring in (False, True):
                concurrent(threads=threads, per_thread=max(n // (2 * threads), 50), anchoring=anchoring)


def concurrent(*, threads: int, per_thread: int, anchoring: bool) -> None:
    settings.AUDIT_CHECKPOINT_DIR = tempfile.mkdtemp(prefix="audit-bench-anchors-")
    barrier = threading.Barrier(threads + 1)
    stop = threading.Event()
    anchors = [0]

    def writer(k: int) -> None:
        barrier.wait()
        try:
            for i in range(per_thread):
                with transaction.atomic():
                    record(k * 100000 + i)
        finally:
            connections.close_all()

    def anchorer() -> None:
        try:
            while not stop.wait(0.05):
                audit_checkpoint_write(why="benchmark")
                anchors[0] += 1
        finally:
            connections.close_all()

    # What the writers' backends are doing, every 5 ms: (samples, waiting on the chain lock, waiting on
    # any other lock). Sampled by a connection of its own.
    samples = [0, 0, 0]

    def sampler() -> None:
        from django.db import connections as conns

        alias = "default"
        conn = conns[alias]
        try:
            with conn.cursor() as cursor:
                while not stop.wait(0.005):
                    cursor.execute(
                        "SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE datname = current_database()"
                        " AND pid <> pg_backend_pid() AND state <> 'idle' AND backend_type = 'client backend'"
                    )
                    for wait_type, wait_event in cursor.fetchall():
                        samples[0] += 1
                        samples[1] += wait_type == "Lock" and wait_event == "advisory"
                        samples[2] += wait_type == "Lock" and wait_event != "advisory"
        finally:
            connections.close_all()

    workers = [threading.Thread(target=writer, args=(k,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    sample_thread = threading.Thread(target=sampler) if connections["default"].vendor == "postgresql" else None
    if sample_thread:
        sample_thread.start()
    anchor_thread = threading.Thread(target=anchorer) if anchoring else None
    if anchor_thread:
        anchor_thread.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    stop.set()
    if anchor_thread:
        anchor_thread.join()
    if sample_thread:
        sample_thread.join()
    count = threads * per_thread
    label = f"{threads} writers{', anchoring every 50 ms' if anchoring else ''}"
    rate(label, count, seconds)
    waiting = AuditEvent.objects.filter(position__isnull=True).count()
    started = time.perf_counter()
    audit_chain_pending()
    print(f"{'':<44} unchained when the writers stopped: {waiting}, chained in {time.perf_counter() - started:.3f} s"
          + (f", {anchors[0]} anchors" if anchoring else ""))
    if samples[0]:
        print(f"{'':<44} busy backend samples: {samples[0]}, waiting on the chain lock "
              f"{100 * samples[1] / samples[0]:.1f} %, on other locks {100 * samples[2] / samples[0]:.1f} %")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000,
         tuple(int(arg) for arg in sys.argv[2:]) or (1, 2, 4, 8))
