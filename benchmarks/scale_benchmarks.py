"""The measures of benchmarks/scale_bench.py: who is measured, the baselines, and one function per
benchmark (BENCHMARKS). Imported after django.setup() by the runner."""

import itertools
import os
import platform
import statistics
import sys
import sysconfig
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection, reset_queries, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agencies.models import AgencyGroup, Membership, Role
from cases.models import Case
from handoffs.models import HandoffStatus
from permissions.access import CATEGORY_BITS, RIGHT_BITS, VIEW_BIT

PAGE = 50  # the first page of a list, as the case list API and page show it


@dataclass
class People:
    busy: object
    busy_agency: int
    busy_visible: int
    quiet: object
    quiet_agency: int
    quiet_visible: int
    # A responder of another agency of the busy one's province: receives the handoffs sent.
    receiver: object
    receiver_agency: int


def _visible_by_agency() -> dict[int, int]:
    """Cases each agency sees (its access rows with view_case, in force now)."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.agency_id, count(DISTINCT a.case_id) FROM cases_caseaccessrow a
            WHERE a.agency_id IS NOT NULL AND a.rights & %s <> 0
              AND (a.valid_from IS NULL OR a.valid_from <= %s) AND (a.valid_until IS NULL OR a.valid_until > %s)
            GROUP BY a.agency_id
            """,
            [VIEW_BIT, now, now],
        )
        return dict(cursor.fetchall())


def _single_agency_responder(agency_id: int):
    users = get_user_model().objects.filter(memberships__agency_id=agency_id, memberships__role=Role.RESPONDER)
    for user in users.order_by("username"):
        if Membership.objects.filter(user=user).count() == 1:
            return user
    raise LookupError(f"no responder of agency {agency_id} alone")


def pick_people() -> People:
    visible = _visible_by_agency()
    ranked = sorted(visible.items(), key=lambda item: (item[1], item[0]))
    busy_agency, busy_visible = ranked[-1]
    # The quiet agency sees the fewest cases that still fill a page: PostgreSQL has to look for them.
    quiet_agency, quiet_visible = next((item for item in ranked if item[1] > PAGE), ranked[0])
    busy = _single_agency_responder(busy_agency)
    province = Membership.objects.get(user=busy).agency.province_id
    receiver_agency = (
        AgencyGroup.objects.filter(agency__province_id=province, role=Role.RESPONDER)
        .exclude(agency_id=busy_agency).order_by("agency_id").values_list("agency_id", flat=True).first()
    )
    return People(busy=busy, busy_agency=busy_agency, busy_visible=busy_visible,
                  quiet=_single_agency_responder(quiet_agency), quiet_agency=quiet_agency,
                  quiet_visible=quiet_visible, receiver=_single_agency_responder(receiver_agency),
                  receiver_agency=receiver_agency)


def seeded_cases() -> int:
    from scale.seed import scale_agencies

    return Case.objects.filter(lead_agency__in=scale_agencies()).count()


def seed_up_to(cases: int, seed: int) -> int:
    """Grow the seeded world to `cases` cases with seed_scale when it holds fewer (printing the seed
    rate); returns the cases it holds."""
    from scale.seed import seed_scale

    have = seeded_cases()
    if have < cases:
        print(f"Seeding {cases - have} cases (the database holds {have}) ...", flush=True)
        report = seed_scale(cases=cases - have, seed=seed + have, progress=lambda text: print("  " + text, flush=True))
        print(f"Seeded {report.cases} cases in {report.seconds:.0f} s: {report.cases_per_second:.0f} cases/s "
              f"(load average {os.getloadavg()[0]:.1f})", flush=True)
    return max(have, cases)


def interpreter_in_force() -> str:
    """The Python that runs the benchmark (and, for scale_mixed.py, gunicorn: the same environment's), for the
    header. CPU per request depends on how that interpreter was built: the production image's (Dockerfile,
    python:3.11-slim) is built with profile-guided and link-time optimisation, a Python built from source
    as pyenv builds it by default is not; in process the second spent more CPU on the same requests here,
    under gunicorn the difference was lost in this machine's spread (README, "Which Python the benchmarks
    run on"). Whether a build used PGO cannot be read back from every
    distribution's Python (Debian's configure line does not show it), so the line gives what can be read:
    version, executable, the optimisation flags of its configure line, and whether libpython is a shared
    library loaded at run time."""
    flags = sysconfig.get_config_var("CONFIG_ARGS") or ""
    optimised = [flag for flag in ("--enable-optimizations", "--with-lto") if flag in flags]
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        shared = "unknown"
    else:
        shared = "yes" if f"libpython{sys.version_info.major}.{sys.version_info.minor}" in maps else "no"
    return (f"Python {platform.python_version()} ({sys.executable}, base {sys.base_prefix}): configure "
            f"{' '.join(optimised) or 'without --enable-optimizations/--with-lto'}, libpython loaded as a shared "
            f"library: {shared}")


def postgres_settings_apply() -> list[str]:
    """Give the measured database the PostgreSQL settings HopLuc documents (docker-compose.yml's
    `postgres -c name=value` list, README "PostgreSQL settings"): those a database may carry (jit,
    work_mem, random_page_cost, effective_cache_size) are set on it with ALTER DATABASE, for every
    connection opened from now on (the gunicorn workers of the mixed load included); those only the
    server's configuration sets (shared_buffers, autovacuum) are compared. Returns one line a setting,
    saying what is in force, and how HopLuc binds parameters, for the benchmark's header."""
    import yaml
    from django.conf import settings

    compose = yaml.safe_load((settings.BASE_DIR / "docker-compose.yml").read_text())
    command = compose["services"]["postgres"]["command"]
    wanted = dict(item.split("=", 1) for item in command if "=" in item)
    database = connection.ops.quote_name(connection.settings_dict["NAME"])
    lines = []
    with connection.cursor() as cursor:
        for name, value in wanted.items():
            cursor.execute("SELECT context FROM pg_settings WHERE name = %s", [name])
            (context,) = cursor.fetchone()
            if context in ("user", "superuser"):
                # Names and values come from our own compose file; ALTER DATABASE takes no parameters.
                cursor.execute(f"ALTER DATABASE {database} SET {name} = '{value}'")
                cursor.execute(f"SET {name} = '{value}'")
            cursor.execute(f"SHOW {name}")
            (current,) = cursor.fetchone()
            kept = "" if context in ("user", "superuser") else " (server setting"
            if kept:
                kept += ", as documented)" if _same_setting(current, value) else f", documented {value})"
            lines.append(f"{name}={current}{kept}")
    # HopLuc's side: prepared statements (DATABASE_SERVER_SIDE_BINDING, on by default) or client-side binding.
    options = connection.settings_dict["OPTIONS"]
    lines.append(f"server-side binding (prepare_threshold={options['prepare_threshold']})"
                 if options.get("server_side_binding") else "client-side binding")
    return lines


def _same_setting(current: str, wanted: str) -> bool:
    return current.replace(" ", "").lower() == wanted.replace(" ", "").lower()


# --- Baselines -------------------------------------------------------------------------------------


def _generic_rows_select() -> tuple[str, list]:
    """The rows a generic guardian installation would hold for the world as it is now: for every
    access row of an agency in force, each of its rights and categories, granted to each case-role
    group of the agency (as cases.sharing wrote guardian rows before issue 15), object_pk as text."""
    content_type = ContentType.objects.get_for_model(Case)
    now = timezone.now()
    bits = [(codename, bit, True) for codename, bit in RIGHT_BITS.items()] + [
        (codename, bit, False) for codename, bit in CATEGORY_BITS.items()]
    values = ", ".join(["(%s, %s, %s)"] * len(bits))
    sql = f"""
        SELECT DISTINCT g.group_id, p.id, %s, a.case_id::text
        FROM cases_caseaccessrow a
        JOIN agencies_agencygroup g ON g.agency_id = a.agency_id AND g.role IN ('responder', 'supervisor')
        JOIN (VALUES {values}) AS b(codename, bit, is_right)
          ON (CASE WHEN b.is_right THEN a.rights ELSE a.categories END) & b.bit <> 0
        JOIN auth_permission p ON p.content_type_id = %s AND p.codename = b.codename
        WHERE a.agency_id IS NOT NULL
          AND (a.valid_from IS NULL OR a.valid_from <= %s) AND (a.valid_until IS NULL OR a.valid_until > %s)
    """
    return sql, [content_type.pk, *[v for row in bits for v in row], content_type.pk, now, now]


GUARDIAN_GROUP_TABLE = "guardian_groupobjectpermission"


def table_keys(cursor, table: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The table's unique and exclusion constraints (name, definition, from pg_constraint) and its
    indexes that back no constraint (name, CREATE INDEX statement, from pg_indexes): what
    guardian_generic_fill drops and recreates. The primary key, foreign keys and checks are not listed."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('u', 'x') ORDER BY conname",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = %s
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                          WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)
        ORDER BY i.indexname
        """,
        [table],
    )
    return constraints, cursor.fetchall()


def guardian_generic_fill() -> int:
    """Fill guardian's generic GroupObjectPermission table with the same world (the rights in force
    now, object_pk as text, as a generic installation stores them), from the access rows (HopLuc
    writes no guardian rows since issue 15), replacing what a previous run left. Returns the number
    of rows.

    Tens of millions of rows at a million cases: inserted with the table's unique constraint and
    secondary indexes in place (six b-trees, three over object_pk text) it had not finished after
    27 minutes. So, in one transaction: their definitions are read from the catalogue, they are
    dropped, the rows inserted, and they are built again from those definitions (each index one sort)
    and the table analysed; the table ends as guardian's migrations left it (the primary key stays; the
    foreign keys stay too, their per-row checks are off for the insert, see below)."""
    select, params = _generic_rows_select()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {GUARDIAN_GROUP_TABLE}")
        stored = cursor.fetchone()[0]
        if stored:
            cursor.execute(f"SELECT count(*) FROM ({select}) AS wanted", params)
            if cursor.fetchone()[0] == stored:
                return stored  # filled by an earlier run for the same world
    with transaction.atomic(), connection.cursor() as cursor:
        # The rows come from rows whose keys hold already: no per-row foreign-key checks (triggers), which
        # would take most of the time at millions of rows.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")  # the index builds sort in memory
        cursor.execute("SET LOCAL work_mem = '256MB'")  # the DISTINCT of the select
        constraints, indexes = table_keys(cursor, GUARDIAN_GROUP_TABLE)
        for name, _definition in constraints:
            cursor.execute(f'ALTER TABLE {GUARDIAN_GROUP_TABLE} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute(f"TRUNCATE {GUARDIAN_GROUP_TABLE}, guardian_userobjectpermission")
        cursor.execute(
            f"INSERT INTO {GUARDIAN_GROUP_TABLE} (group_id, permission_id, content_type_id, object_pk) "
            + select, params)
        rows = cursor.rowcount
        for name, definition in constraints:
            cursor.execute(f'ALTER TABLE {GUARDIAN_GROUP_TABLE} ADD CONSTRAINT "{name}" {definition}')
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute(f"ANALYZE {GUARDIAN_GROUP_TABLE}")
        cursor.execute("ANALYZE guardian_userobjectpermission")
    return rows


@contextmanager
def _guardian_generic():
    """get_objects_for_user on the generic tables: guardian picks the direct-foreign-key models it
    finds for Case; for the baseline it is given the generic ones."""
    from guardian import shortcuts
    from guardian.models import GroupObjectPermission, UserObjectPermission

    saved = shortcuts.get_user_obj_perms_model, shortcuts.get_group_obj_perms_model
    shortcuts.get_user_obj_perms_model = lambda obj=None: UserObjectPermission
    shortcuts.get_group_obj_perms_model = lambda obj=None: GroupObjectPermission
    try:
        yield
    finally:
        shortcuts.get_user_obj_perms_model, shortcuts.get_group_obj_perms_model = saved


def guardian_generic_page(user) -> list:
    from guardian.shortcuts import get_objects_for_user

    with _guardian_generic():
        queryset = get_objects_for_user(user, "cases.view_case", klass=Case.objects.order_by("-updated_at", "-id"),
                                        accept_global_perms=False, with_superuser=False)
        return list(queryset.select_related("lead_agency")[:PAGE])


def handwritten_page(user) -> list:
    """The best hand-written query of the first page over HopLuc's rows as they are: the access rows
    of the user's case-role agencies with view_case in force, in the order of their index, LIMIT."""
    now = timezone.now()
    agencies = list(Membership.objects.filter(user=user, role__in=(Role.RESPONDER, Role.SUPERVISOR))
                    .values_list("agency_id", flat=True))
    return list(Case.objects.raw(
        """
        SELECT c.* FROM cases_caseaccessrow a JOIN cases_case c ON c.id = a.case_id
        WHERE a.agency_id = ANY(%s) AND a.rights & %s <> 0
          AND (a.valid_from IS NULL OR a.valid_from <= %s) AND (a.valid_until IS NULL OR a.valid_until > %s)
        ORDER BY a.case_updated_at DESC, a.case_id DESC LIMIT %s
        """,
        [agencies, VIEW_BIT, now, now, PAGE],
    ))


# --- Measuring -------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    times_ms: list[float]
    queries: int
    load: float
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p90(self) -> float:
        ordered = sorted(self.times_ms)
        return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]

    def line(self) -> str:
        return (f"{self.name:<44} median {self.median:8.1f} ms  p90 {self.p90:8.1f} ms  {self.queries:3d} queries  "
                f"load {self.load:.1f} {self.note}")

    def row(self) -> str:
        name = f"{self.name} ({self.note})" if self.note else self.name
        return f"| {name} | {self.median:.1f} | {self.p90:.1f} | {self.queries} | {self.load:.1f} |"


@dataclass
class Bench:
    people: People
    runs: int
    warmup: int = 2
    clients: dict = field(default_factory=dict)

    def client(self, user) -> Client:
        if user.pk not in self.clients:
            client = Client(HTTP_HOST="localhost")
            client.force_login(user)
            self.clients[user.pk] = client
        return self.clients[user.pk]

    def measure(self, name: str, function: Callable[["Bench", int], object]) -> Result:
        """function(bench, i) does one request (i counts from 0 over warm-up, query run and timed runs).
        The guardian baseline takes tens of seconds a request at 100,000 cases: BENCH_BASELINE_RUNS
        (default 3) timed runs and no warm-up beyond the query run."""
        counter = itertools.count()
        slow = "guardian" in name
        runs = int(os.environ.get("BENCH_BASELINE_RUNS", "3")) if slow else self.runs
        for _ in range(0 if slow else self.warmup):
            function(self, next(counter))
        with CaptureQueriesContext(connection) as captured:
            function(self, next(counter))
        queries = len(captured.captured_queries)
        reset_queries()
        times = []
        for _ in range(runs):
            i = next(counter)
            started = time.perf_counter()
            function(self, i)
            times.append((time.perf_counter() - started) * 1000)
        return Result(name, times, queries, os.getloadavg()[0])


def _ok(response, expected=200):
    if response.status_code != expected:
        raise AssertionError(f"{response.status_code}: {response.content[:500]!r}")
    return response


def _api_list(user_attr):
    def run(bench: Bench, i: int):
        _ok(bench.client(getattr(bench.people, user_attr)).get("/api/cases/"))
    return run


def _html_list(user_attr):
    def run(bench: Bench, i: int):
        _ok(bench.client(getattr(bench.people, user_attr)).get("/cases/"))
    return run


def _baseline(function, user_attr):
    def run(bench: Bench, i: int):
        rows = function(getattr(bench.people, user_attr))
        assert rows, "the baseline found no case"
    return run


_cases_cache: dict = {}


def _busy_led_cases(bench: Bench) -> list[int]:
    """Cases the busy responder's agency leads, newest first, without an open handoff: what the
    detail, action and handoff benchmarks work on (one case per handoff sent)."""
    if "led" not in _cases_cache:
        _cases_cache["led"] = list(
            Case.objects.filter(lead_agency_id=bench.people.busy_agency)
            .exclude(handoffs__status__in=[HandoffStatus.SENT, HandoffStatus.ACCEPTED])
            .order_by("-updated_at", "-id").values_list("pk", flat=True)[:500]
        )
    return _cases_cache["led"]


def _detail_api(bench: Bench, i: int):
    case_id = _busy_led_cases(bench)[i % 20]
    _ok(bench.client(bench.people.busy).get(f"/api/cases/{case_id}/"))


def _detail_html(bench: Bench, i: int):
    case_id = _busy_led_cases(bench)[i % 20]
    _ok(bench.client(bench.people.busy).get(f"/cases/{case_id}/"))


def _action_log(bench: Bench, i: int):
    case_id = _busy_led_cases(bench)[i % 20]
    _ok(bench.client(bench.people.busy).post(
        f"/api/cases/{case_id}/actions/", {"type": "contact", "text": "Gọi điện hỏi thăm"},
        content_type="application/json"), 201)


_sent: list[int] = []


def _handoff_send(bench: Bench, i: int):
    case_id = _busy_led_cases(bench)[100 + i]
    response = _ok(bench.client(bench.people.busy).post(
        f"/api/cases/{case_id}/handoffs/",
        {"kind": "referral", "to_agency": bench.people.receiver_agency, "urgency": "standard",
         "services": ["counselling"], "categories": [], "message": "Đề nghị tư vấn",
         "emergency_override": True, "override_reason": "Nguy hiểm đến tính mạng"},
        content_type="application/json"), 201)
    _sent.append(response.json()["id"])


def _handoff_accept(bench: Bench, i: int):
    if not _sent:
        raise AssertionError("handoff send must run before accept")
    handoff_id = _sent.pop()
    _ok(bench.client(bench.people.receiver).post(f"/api/handoffs/{handoff_id}/accept/", {},
                                                 content_type="application/json"))


# (name, function); None marks a benchmark another part of issue 15 adds here.
BENCHMARKS: list[tuple[str, Callable | None]] = [
    ("list API busy", _api_list("busy")),
    ("list API quiet", _api_list("quiet")),
    ("list HTML busy", _html_list("busy")),
    ("list HTML quiet", _html_list("quiet")),
    ("list baseline guardian-generic busy", _baseline(guardian_generic_page, "busy")),
    ("list baseline guardian-generic quiet", _baseline(guardian_generic_page, "quiet")),
    ("list baseline hand-written busy", _baseline(handwritten_page, "busy")),
    ("list baseline hand-written quiet", _baseline(handwritten_page, "quiet")),
    ("detail API", _detail_api),
    ("detail HTML", _detail_html),
    ("action log API", _action_log),
    ("handoff send API", _handoff_send),
    ("handoff accept API", _handoff_accept),
    # Issue 15 part 4: the deadline sweep (100,000 due deadlines, one worker) goes here.
    ("deadline sweep", None),
    # Issue 15 part 6: mixed HTTP load on gunicorn (requests/s, p95, worker memory): scale_bench.py runs
    # benchmarks/scale_mixed.py in a process of its own after this table.
    ("mixed load", None),
]

