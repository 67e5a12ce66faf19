"""Time `reports.protection.protect_month` on a month pickled by

    .venv/bin/python benchmarks/reports_national_month.py --dump FILE [--dump-only]

    .venv/bin/python benchmarks/reports_protect_pickle.py FILE [--repeat N]

protect_month is a pure function (no database), so this measures the protection alone, and shows
that the same month gives the same publication every time (the outcome's fingerprint is printed).
"""

import argparse
import hashlib
import os
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from reports.protection import protect_month  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with open(args.file, "rb") as handle:
        data = pickle.load(handle)
    for _ in range(args.repeat):
        load_before = os.getloadavg()[0]
        started, started_cpu = time.perf_counter(), time.process_time()
        outcome = protect_month(data["order"], data["limits"], additive=data["additive"])
        wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        results = outcome.results
        fingerprint = hashlib.sha256(
            repr([(r.withheld, sorted(r.hidden)) for r in results]).encode()
        ).hexdigest()[:16]
        print(f"protect_month: {wall:.2f} s wall, {cpu:.2f} s CPU (pattern {outcome.pattern_seconds:.2f} s / "
              f"{outcome.pattern_cpu:.2f} s CPU, check {outcome.check_seconds:.2f} s / {outcome.check_cpu:.2f} s CPU), "
              f"rounds {outcome.rounds}; load {load_before:.1f} → {os.getloadavg()[0]:.1f}")
        print(f"  {len(results)} tables, {sum(len(r.grid) * len(r.grid[0]) for r in results)} entries, "
              f"{sum(len(r.hidden) for r in results)} hidden, {sum(r.withheld for r in results)} withheld; "
              f"populations withheld: {sorted(outcome.withheld_populations) or 'none'}; {outcome.stats}; "
              f"outcome {fingerprint}")


if __name__ == "__main__":
    main()
