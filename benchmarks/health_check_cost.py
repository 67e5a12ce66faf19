"""What CONN_HEALTH_CHECKS costs a request: Django's `SELECT 1` on a reused connection before the
request's first query (README, "PostgreSQL settings").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hopluc_bench .venv/bin/python benchmarks/health_check_cost.py \\
        [--runs 2000]

Each round is what a web request does to its connection: `request_started` (Django's
close_old_connections: the connection is kept, and marked to be checked before its next use), then
the request's first query (a session row read by key). Rounds take turns between Django's check
(`SELECT 1`), the socket-first check of config.postgresql and no check, so load drifts alike over
all. Printed per round: this process's CPU, the PostgreSQL backend's CPU (/proc/<pid>/schedstat, the
server must run on this machine) and the wall time, medians in microseconds.
"""

import argparse
import os
import statistics
import sys
import time
import types

from request_overhead import _backend_cpu_ns, _backend_pid

# isort: split
from django.core.signals import request_finished, request_started
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoDatabaseWrapper

MODES = {
    "SELECT 1 (Django's)": DjangoDatabaseWrapper.close_if_health_check_failed,
    "socket first (ours)": None,
    "no check": None,
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args(argv)
    connection = connections[DEFAULT_DB_ALIAS]  # the wrapper itself, not Django's proxy of it
    if connection.vendor != "postgresql":
        print("PostgreSQL only (the health check is off on SQLite)")
        return 1
    connection.ensure_connection()
    pid = _backend_pid()
    results: dict[str, list[tuple[float, float, float]]] = {mode: [] for mode in MODES}
    for index in range(args.runs * len(MODES)):
        mode = list(MODES)[index % len(MODES)]
        connection.health_check_enabled = mode != "no check"
        if MODES[mode] is not None:
            connection.close_if_health_check_failed = types.MethodType(MODES[mode], connection)
        else:
            vars(connection).pop("close_if_health_check_failed", None)
        request_started.send(sender=None)
        wall, cpu, backend = time.perf_counter(), time.process_time(), _backend_cpu_ns(pid)
        with connection.cursor() as cursor:
            cursor.execute("SELECT session_key FROM django_session WHERE session_key = %s", ["x" * 32])
            cursor.fetchone()
        backend_after = _backend_cpu_ns(pid)
        results[mode].append(((time.process_time() - cpu) * 1e6,
                              (backend_after - backend) / 1e3 if backend is not None else float("nan"),
                              (time.perf_counter() - wall) * 1e6))
        request_finished.send(sender=None)
    vars(connection).pop("close_if_health_check_failed", None)
    connection.health_check_enabled = True
    print(f"{'first query of a request':<26} {'CPU us':>8} {'PG CPU us':>10} {'wall us':>8}   "
          f"(medians of {args.runs}; load {os.getloadavg()[0]:.2f}; engine {connection.settings_dict['ENGINE']})")
    for mode, rows in results.items():
        print(f"{mode:<26} "
              + " ".join(f"{statistics.median(r[i] for r in rows):>{w}.1f}" for i, w in ((0, 8), (1, 10), (2, 8))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
