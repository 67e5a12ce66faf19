"""What one request of the mixed load costs, in process: queries and CPU per kind, and where the time goes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hopluc_bench .venv/bin/python benchmarks/request_overhead.py \\
        [--runs 30] [--sql] [--profile KIND|all] [--who responder|supervisor] [--top 40] [--python-gc]

Signs in one responder and one supervisor of the seeded world through the forms, as scale_mixed.py does
(the supervisor with the code of an enrolled authenticator), with CSRF checks on, and runs each kind of
scale_mixed.py's MIX under the same settings the web workers use (config.settings.dev, DEBUG=0), with the
garbage collector tuned after the sign-ins as config/gunicorn.py tunes a worker's (--python-gc: Python's default). For
each kind it prints the queries of one request, the median wall and CPU time of this process over --runs
requests, and the mean CPU the PostgreSQL backend serving this process spent per request ("PG ms": the
backend's on-CPU nanoseconds from /proc/<pid>/schedstat before and after each request, pid from
pg_backend_pid(), so the server must run on this machine; "-" when it cannot be read). --sql lists each
query of one request; --explain shows PostgreSQL's planning and execution time of each (with --generic, of
the generic plan a prepared statement runs, which may differ from the fresh plan for the values); --profile runs
cProfile over --runs requests of one kind (or of the whole mix) as --who (by default the responder; the
supervisor for the kinds only supervisors draw) and prints the --top functions by cumulative time. It
reads what scale_mixed.py reads and writes what its requests write (actions logged on the responder's
cases); it never seeds.
"""

import argparse
import cProfile
import itertools
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("API_THROTTLE_USER", "1000000/min")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django_otp.oath import TOTP  # noqa: E402
from scale_benchmarks import interpreter_in_force  # noqa: E402
from scale_mixed import _CSRF_INPUT, MIX, Person, pick_sessions  # noqa: E402

from config.gunicorn import freeze_loaded_objects  # noqa: E402
from scale.seed import SCALE_PASSWORD  # noqa: E402


def sign_in(person: Person) -> Client:
    client = Client(enforce_csrf_checks=True, HTTP_HOST="localhost")
    token = _CSRF_INPUT.search(client.get("/login/").content.decode()).group(1)
    response = client.post("/login/", {"csrfmiddlewaretoken": token, "username": person.username,
                                       "password": SCALE_PASSWORD}, follow=True)
    if response.redirect_chain and "/login/code/" in response.redirect_chain[-1][0]:
        key, step, t0, digits, drift = person.totp
        totp = TOTP(key, step, t0, digits, drift)
        totp.time = time.time()
        token = _CSRF_INPUT.search(response.content.decode()).group(1)
        client.post("/login/code/", {"csrfmiddlewaretoken": token, "code": f"{totp.token():0{digits}d}"})
    if client.get("/api/me/").status_code != 200:
        raise RuntimeError(f"{person.username} is not signed in")
    return client


def _backend_cpu_ns(pid: int | None) -> int | None:
    """Nanoseconds the PostgreSQL backend `pid` has run on a CPU (None when it cannot be read)."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/schedstat") as stat:
            return int(stat.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _backend_pid() -> int | None:
    """The pid of the PostgreSQL backend of Django's open connection (None when none is open, or not PostgreSQL)."""
    if connection.vendor != "postgresql" or connection.connection is None:
        return None
    return connection.connection.info.backend_pid


def one(client: Client, person: Person, kind: str, rng: random.Random) -> None:
    case_id = rng.choice(person.cases)
    if kind == "list page":
        response, expected = client.get("/cases/"), 200
    elif kind == "list API":
        response, expected = client.get("/api/cases/"), 200
    elif kind == "detail page":
        response, expected = client.get(f"/cases/{case_id}/"), 200
    elif kind == "detail API":
        response, expected = client.get(f"/api/cases/{case_id}/"), 200
    elif kind == "log action API":
        response = client.post(f"/api/cases/{case_id}/actions/", {"type": "contact", "text": "Gọi điện hỏi thăm"},
                               content_type="application/json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
        expected = 201
    elif kind == "handoffs incoming page":
        response, expected = client.get("/handoffs/incoming/"), 200
    elif kind == "handoff page":
        path = f"/handoffs/{rng.choice(person.handoffs)}/" if person.handoffs else "/handoffs/incoming/"
        response, expected = client.get(path), 200
    elif kind == "supervision home":
        response, expected = client.get("/supervision/"), 200
    elif kind == "supervision queue":
        response, expected = client.get("/supervision/reviews/"), 200
    else:
        raise ValueError(kind)
    if response.status_code != expected:
        raise AssertionError(f"{kind}: {response.status_code} {response.content[:300]!r}")


def _explained_generic(cursor, sql: str, params) -> dict:
    """The plan of `sql` as a prepared statement's generic plan runs it (plan_cache_mode = force_generic_plan):
    the plan the web processes run once a connection has run the statement DATABASE_PREPARE_THRESHOLD times
    and PostgreSQL settled on its generic plan (pg_prepared_statements.generic_plans). EXPLAIN of the
    statement with its values, as --explain does otherwise, shows a fresh plan for those values, which may
    be another: the case list's statement at 20,000 cases, fresh, joins each of a busy agency's 566 cases
    before its LIMIT (4,791 buffers), where its generic plan reads the agency's index in order (476)."""
    from psycopg import ClientCursor
    from psycopg._queries import PostgresQuery
    from psycopg.adapt import Transformer

    raw = connection.connection
    query = PostgresQuery(Transformer(raw))
    query.convert(sql, params)  # the statement with $1, $2... as psycopg prepares it
    values = ClientCursor(raw).mogrify(", ".join(["%s"] * len(params)), params) if params else ""
    # A name of its own each time: one left behind by an EXPLAIN that failed (its transaction aborted, so
    # not deallocated) is never asked for again.
    name = f"hopluc_explained_{next(_EXPLAINED)}"
    cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    cursor.execute(f"PREPARE {name} AS {query.query.decode()}")
    arguments = f"({values})" if values else ""
    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, SETTINGS, FORMAT JSON) EXECUTE {name}{arguments}")
    plan = cursor.fetchone()[0][0]
    cursor.execute(f"DEALLOCATE {name}")
    return plan


_EXPLAINED = itertools.count(1)


def explain(captured, *, generic: bool = False) -> None:
    """Planning and execution time of each captured query, as PostgreSQL reports them (writes rolled back);
    `generic`: of its generic plan (_explained_generic)."""
    from django.db import transaction

    for _seconds, sql, params in captured:
        if not sql.lstrip().upper().startswith(("SELECT", "(SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
            continue
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                if generic:
                    plan = _explained_generic(cursor, sql, params)
                else:
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, SETTINGS, FORMAT JSON) {sql}", params)
                    plan = cursor.fetchone()[0][0]
                transaction.set_rollback(True)
        except Exception as error:  # noqa: BLE001 - a query that cannot be explained is shown, not fatal
            print(f"        (cannot explain: {error})")
            continue
        top = plan["Plan"]
        print(f"        plan {plan['Planning Time']:6.2f} ms  exec {plan['Execution Time']:6.2f} ms  "
              f"{top['Node Type']:<14} hit {top.get('Shared Hit Blocks', 0):>5}  {' '.join(sql.split())[:110]}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--sql", action="store_true")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN (ANALYZE, BUFFERS) each query of one request with its parameters, in a "
                             "transaction rolled back: planning and execution ms and the plan's top node")
    parser.add_argument("--generic", action="store_true",
                        help="with --explain: the prepared statement's generic plan, the one the web processes "
                             "run once a statement is prepared, instead of a fresh plan for the values")
    parser.add_argument("--profile", default="")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--python-gc", action="store_true",
                        help="leave Python's garbage collector as it is by default, instead of tuning it after the "
                             "sign-ins as config/gunicorn.py tunes it in a web worker (gc.freeze, young threshold)")
    parser.add_argument("--who", choices=("responder", "supervisor"), default="",
                        help="whose requests --profile runs (default: the responder; the supervisor for "
                             "their home and review queue)")
    args = parser.parse_args(argv)
    people = pick_sessions(8)
    responder = next(p for p in people if not p.supervisor)
    supervisor = next((p for p in people if p.supervisor), None)
    clients = {responder.username: sign_in(responder)}
    if supervisor:
        clients[supervisor.username] = sign_in(supervisor)
    if not args.python_gc:
        freeze_loaded_objects()
    rng = random.Random(1)
    print(interpreter_in_force(), flush=True)
    print(f"{'kind':<24} {'who':<10} {'queries':>7} {'wall ms':>8} {'CPU ms':>7} {'PG ms':>6}   "
          f"(median of {args.runs}, PG ms their mean, load {os.getloadavg()[0]:.1f})")
    every_cpu = []  # each timed request's CPU, of every kind: their mean counts the rare slow one (a collection)
    for kind, for_responder, for_supervisor in MIX:
        for person, weight in ((responder, for_responder), (supervisor, for_supervisor)):
            if person is None or not weight:
                continue
            client = clients[person.username]
            for _ in range(3):
                one(client, person, kind, rng)
            captured = []

            def record(execute, sql, params, many, context, captured=captured):
                started = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    captured.append((time.perf_counter() - started, sql, params))

            with connection.execute_wrapper(record):
                one(client, person, kind, rng)
            walls, cpus, pg = [], [], []
            for _ in range(args.runs):
                pid = _backend_pid()
                backend = _backend_cpu_ns(pid)
                wall, cpu = time.perf_counter(), time.process_time()
                one(client, person, kind, rng)
                walls.append((time.perf_counter() - wall) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
                after = _backend_cpu_ns(pid) if _backend_pid() == pid else None
                if backend is not None and after is not None:
                    pg.append((after - backend) / 1e6)
            every_cpu += cpus
            who = "supervisor" if person.supervisor else "responder"
            pg_ms = f"{statistics.mean(pg):>6.2f}" if pg else f"{'-':>6}"
            print(f"{kind:<24} {who:<10} {len(captured):>7} {statistics.median(walls):>8.1f} "
                  f"{statistics.median(cpus):>7.1f} {pg_ms}", flush=True)
            if args.sql:
                for seconds, sql, _params in captured:
                    print(f"      {seconds * 1000:6.2f} ms  {' '.join(sql.split())[:200]}")
            if args.explain:
                explain(captured, generic=args.generic)
    print(f"{'every kind, mean CPU':<35} {statistics.mean(every_cpu):>17.2f}   ({len(every_cpu)} requests, "
          f"garbage collector {'Python default' if args.python_gc else 'as in a web worker'}, "
          f"load {os.getloadavg()[0]:.1f})")
    if args.profile:
        kinds = [kind for kind, _r, _s in MIX] if args.profile == "all" else [args.profile]
        # By default the responder, unless the kind is the supervisor's alone (their home and queue).
        only_supervisors = {kind for kind, r, s in MIX if s and not r}
        who = args.who or ("supervisor" if args.profile in only_supervisors else "responder")
        person = supervisor if who == "supervisor" else responder
        if person is None:
            raise SystemExit("no supervisor among the sessions picked")
        weights = [s if person.supervisor else r for kind, r, s in MIX if kind in kinds] if len(kinds) > 1 else [1]
        client = clients[person.username]
        profiler = cProfile.Profile(time.process_time)  # CPU time: waiting for PostgreSQL is not counted
        profiler.enable()
        for _ in range(args.runs):
            one(client, person, rng.choices(kinds, weights)[0], rng)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
        # What surrounds the views: middleware, session, authentication, context processors, audit chaining.
        stats.sort_stats("cumulative").print_stats(
            r"middleware|session|mfa\.py|context_processors|navigation|audit/services|contrib/auth/__init__|csp", 40)
    return 0


if __name__ == "__main__":
    sys.exit(main())
