"""How long do the daily retention run and an access package take? Run against the database that
DATABASE_URL names (a throwaway test database is created and dropped here):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_bench .venv/bin/python benchmarks/privacy_retention.py [N]

Seeds the demo agencies and N demo cases, then:
  1. the retention run with nothing due (the daily cost on an ordinary day),
  2. the run ten years on, giving a notice for every closed case,
  3. the run 31 days later, anonymising them (provisional cases.erasure until the real one lands),
  4. building the access package of the case with the most actions.
"""

import datetime
import functools
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from agencies.demo import BUILT_IN_STEPS, seed_demo_world  # noqa: E402
from benchmarks.throwaway_db import throwaway_database  # noqa: E402
from cases.demo import seed_demo_cases_step  # noqa: E402
from cases.models import Case  # noqa: E402
from notifications.loaders import time_limit_load_reference  # noqa: E402
from privacy.package import access_package_archive  # noqa: E402
from privacy.retention import retention_apply  # noqa: E402


def timed(label: str, call):
    started = time.perf_counter()
    result = call()
    print(f"{label:<52} {time.perf_counter() - started:7.2f} s  {'' if isinstance(result, tuple) else result}")
    return result


def main(n: int) -> None:
    with throwaway_database("privacy_bench"):
        time_limit_load_reference()
        seed_demo_world(steps=(*BUILT_IN_STEPS, functools.partial(seed_demo_cases_step, count=n)))
        closed = Case.objects.filter(status="closed").count()
        print(f"{Case.objects.count()} cases, {closed} closed")
        now = timezone.now()
        timed("retention run, nothing due", lambda: retention_apply(now=now))
        later = now + datetime.timedelta(days=3660)
        timed("retention run, a notice for every closed case", lambda: retention_apply(now=later))
        timed("retention run, anonymising them", lambda: retention_apply(now=later + datetime.timedelta(days=31)))
        case = (Case.objects.filter(anonymised_at__isnull=True).annotate(n=Count("actions")).order_by("-n").first())
        content, _digest = timed(f"access package of {case.number} ({case.n} actions)",
                                 lambda: access_package_archive(Case.objects.get(pk=case.pk)))
        print(f"package size: {len(content)} bytes")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 123)
