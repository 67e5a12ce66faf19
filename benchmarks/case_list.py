"""The case list at national scale: the access rows against the object-permission rows they replace
for reads. Run against a world already in the database DATABASE_URL names (`manage.py seed_scale`,
or any installation's copy), read only apart from the list's audit events:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_bench .venv/bin/python benchmarks/case_list.py [RUNS]

Picks the busiest and the quietest agency (by the cases they see) and one responder of each who
belongs to that agency alone, then prints, as medians of RUNS: the selector that read the
object-permission rows (before issue 15), the selector of today (cases.selectors), the best
hand-written query for the same page (the access rows' index, LIMIT), and the API and HTML pages
with their query counts, with the load average before and after.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Exists, OuterRef, Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from agencies.models import Membership  # noqa: E402
from cases.models import Case, CaseAccessRow, CaseGroupObjectPermission  # noqa: E402
from cases.selectors import case_list_visible_to  # noqa: E402
from permissions.policy import CASE_ROLES  # noqa: E402
from permissions.readers import case_reader_condition  # noqa: E402

PAGE = 50
HAND_WRITTEN = """
    SELECT c.id, c.number, c.status, c.risk_level, c.updated_at FROM cases_caseaccessrow a
    JOIN cases_case c ON c.id = a.case_id
    WHERE a.agency_id = %s AND a.rights & 1 = 1 AND (a.valid_from IS NULL OR a.valid_from <= now())
      AND (a.valid_until IS NULL OR a.valid_until > now())
    ORDER BY a.case_updated_at DESC, a.case_id DESC LIMIT %s
"""


def old_selector(user):
    """case_list_visible_to before the access rows: EXISTS over the agency groups' rows by codename."""
    now = timezone.now()
    in_force = (Q(valid_from__isnull=True) | Q(valid_from__lte=now)) & (
        Q(valid_until__isnull=True) | Q(valid_until__gt=now))
    membership = Membership.objects.filter(user=user, agency_id=OuterRef("group__agency_group__agency_id"),
                                           role=OuterRef("group__agency_group__role"))
    rows = CaseGroupObjectPermission.objects.filter(
        in_force, Exists(membership), case_reader_condition(user), group__agency_group__role__in=CASE_ROLES,
        group__agency_group__agency__active=True, content_object=OuterRef("pk"), permission__codename="view_case")
    return Case.objects.filter(Exists(rows)).select_related("province", "lead_agency").order_by("-updated_at", "-id")


def median_ms(fn, runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def counted(fn) -> int:
    queries: list[str] = []

    def wrapper(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        fn()
    return len(queries)


def responder_of(agency_id: int):
    one_agency = Membership.objects.values("user").annotate(n=Count("id")).filter(n=1).values("user")
    membership = (Membership.objects.filter(agency_id=agency_id, role="responder", user__in=one_agency,
                                            user__is_active=True).select_related("user").first())
    return membership.user if membership else None


def main(runs: int) -> None:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    by_agency = list(CaseAccessRow.objects.filter(agency__isnull=False).values("agency_id")
                     .annotate(n=Count("id")).order_by("-n").values_list("agency_id", "n"))
    if not by_agency:
        sys.exit("No access rows: seed a world first (manage.py seed_scale).")
    print(f"load average {os.getloadavg()}; cases {Case.objects.count()}; access rows "
          f"{CaseAccessRow.objects.count()}; object-permission rows {CaseGroupObjectPermission.objects.count()}")
    picks = {"busy": by_agency, "quiet": list(reversed(by_agency))}
    for label, candidates in picks.items():
        user = agency_id = None
        for agency_id, _n in candidates:
            user = responder_of(agency_id)
            if user is not None:
                break
        if user is None:
            print(f"{label}: no responder of one agency found")
            continue
        visible = case_list_visible_to(user=user).count()
        new = median_ms(lambda: list(case_list_visible_to(user=user)[:PAGE + 1]), runs)  # noqa: B023
        # The object-permission rows are no longer written (issue 15): the old selector only where an
        # older world still holds them (the migration cases.0015 deletes them).
        old = (median_ms(lambda: list(old_selector(user)[:PAGE + 1]), max(3, runs // 4))  # noqa: B023
               if CaseGroupObjectPermission.objects.exists() else float("nan"))

        def hand(agency_id=agency_id):
            with connection.cursor() as cursor:
                cursor.execute(HAND_WRITTEN, [agency_id, PAGE + 1])
                cursor.fetchall()

        hand_ms = median_ms(hand, runs)
        api = APIClient()
        api.force_authenticate(user)
        web = Client()
        web.force_login(user)
        api_queries = counted(lambda: api.get("/api/cases/"))  # noqa: B023
        html_queries = counted(lambda: web.get("/cases/"))  # noqa: B023
        api_ms = median_ms(lambda: api.get("/api/cases/"), runs)  # noqa: B023
        html_ms = median_ms(lambda: web.get("/cases/"), runs)  # noqa: B023
        print(f"{label} responder ({visible} cases visible): old selector {old:.1f} ms, selector {new:.1f} ms "
              f"({old / new:.0f}x faster), hand-written {hand_ms:.1f} ms ({new / hand_ms:.1f}x of it); "
              f"API {api_ms:.1f} ms, {api_queries} queries; HTML {html_ms:.1f} ms, {html_queries} queries")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
