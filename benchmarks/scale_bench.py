"""National scale (issue 15): server time of the pages that must stay fast, side by side with the
baselines, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hopluc_bench .venv/bin/python benchmarks/scale_bench.py \\
        [--cases 100000] [--runs 15] [--only list,detail,...]

or `BENCH_CASES=100000 make bench`. The database DATABASE_URL names is migrated and, when it holds
fewer seeded cases than --cases, grown with `seed_scale` (the seed rate is printed). Requests run
in-process through Django's test client (server time: middleware, view, serializer, template,
database; no network, no gunicorn), each benchmark warmed up twice, then timed --runs times; the
table gives the median and the 90th percentile, the queries of one request and the load average
while it ran (the machine may be shared: read the numbers with it).

Benchmarks (scale_benchmarks.BENCHMARKS, in order):
- case list, API and HTML, for a busy responder (the agency that sees the most cases) and a quiet
  one (the fewest), and the same first page through two baselines filled from the same world:
  django-guardian's generic tables (GroupObjectPermission, text object_pk) read with
  `get_objects_for_user`, and the best hand-written query over HopLuc's own rows;
- case detail, API and HTML; logging an action (API); handoff send and accept (API).
The deadline sweep has its place at the end of BENCHMARKS (issue 15, part 4). The mixed HTTP load
(part 6: gunicorn, signed-in sessions, requests/s, p95, worker memory) runs last, in its own process:
benchmarks/scale_mixed.py (its settings: BENCH_MIXED_SETTINGS, default config.settings.dev; BENCH_SESSIONS,
BENCH_SECONDS).
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from scale_benchmarks import (  # noqa: E402
    BENCHMARKS,
    Bench,
    guardian_generic_fill,
    interpreter_in_force,
    pick_people,
    postgres_settings_apply,
    seed_up_to,
    seeded_cases,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=int(os.environ.get("BENCH_CASES", "100000")))
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "15")))
    parser.add_argument("--only", default="", help="comma-separated benchmark names (prefix match)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("The scale benchmarks measure PostgreSQL: set DATABASE_URL to a PostgreSQL database.", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)
    pg_settings = postgres_settings_apply()
    print("PostgreSQL settings in force: " + ", ".join(pg_settings), flush=True)
    print(interpreter_in_force(), flush=True)
    seed_up_to(args.cases, args.seed)
    only = [name for name in args.only.split(",") if name]
    chosen = [(name, function) for name, function in BENCHMARKS
              if function is not None and (not only or any(name.startswith(o) for o in only))]
    if any("guardian" in name for name, _function in chosen):
        # Minutes at a million cases the first time: only when a guardian baseline is measured.
        started = time.monotonic()
        rows = guardian_generic_fill()
        print(f"Generic guardian tables filled: {rows} group rows in {time.monotonic() - started:.0f} s", flush=True)
    people = pick_people()
    print(f"Busy responder {people.busy.username}: {people.busy_visible} visible cases; quiet responder "
          f"{people.quiet.username}: {people.quiet_visible}", flush=True)
    bench = Bench(people=people, runs=args.runs)
    results = []
    for name, function in chosen:
        results.append(bench.measure(name, function))
        print(results[-1].line(), flush=True)
    cases = seeded_cases()
    print()
    print(f"## Scale benchmarks at {cases:,} cases ({os.cpu_count()} CPUs, PostgreSQL "
          f"{connection.cursor().connection.info.server_version}), load average during the run "
          f"{min(r.load for r in results):.1f}-{max(r.load for r in results):.1f}; "
          + ", ".join(pg_settings))
    print()
    print("| benchmark | median ms | p90 ms | queries | load avg |")
    print("|---|---:|---:|---:|---:|")
    for result in results:
        print(result.row())
    if not only or any("mixed load".startswith(o) for o in only):
        # Its own process: gunicorn and the sessions run under the web's settings, not these test ones.
        print(flush=True)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("BENCH_MIXED_SETTINGS", "config.settings.dev")}
        mixed = subprocess.run([sys.executable, str(Path(__file__).with_name("scale_mixed.py")),  # noqa: S603
                                "--cases", str(args.cases)], env=env, check=False)
        return mixed.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
