"""Mixed HTTP load on gunicorn (issue 15, part 6): requests/s, p50/p95, errors and each web worker's
peak memory, with the load average, over a seeded national world.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hopluc_bench REDIS_URL=redis://127.0.0.1:6379/1 \\
        .venv/bin/python benchmarks/scale_mixed.py [--cases 20000] [--sessions 16] [--seconds 60] [--warmup 10] \\
        [--workers 4]

REDIS_URL as in a deployment: without it the web workers' cache is files (the header says so).

`make bench` runs it after the in-process benchmarks (scale_bench.py). The database DATABASE_URL
names is migrated and grown with `seed_scale` to --cases when it holds fewer. Then:
- gunicorn starts with --workers sync workers on 127.0.0.1 and production's configuration file,
  config/gunicorn.py (config.settings.dev with DEBUG=0: no debug toolbar or query log; the API's
  per-user throttle is lifted, since each session below is a closed loop without think time and would
  meet it, which is not what is measured; `--gunicorn "--config other.py"` replaces the file);
- --sessions people sign in through the sign-in form as a browser would (password, then the code of
  their authenticator where the app asks for one: every 8th session is the agency's supervisor, who
  must give a second factor; an authenticator is enrolled for them first). Responders are single-agency
  responders of the busiest agencies down (the one that sees the most cases first);
- each session loops without pause over a realistic mix of a caseworker's day, choosing each request at
  random by weight (MIX): the case list page and API, case detail page and API, logging an action (API
  POST, CSRF as a browser sends it), the incoming handoffs page and a handoff's page; supervisors do
  the same without logging actions, and open their home (the handoff register) and their review queue.
  Requests during the --warmup seconds are not counted. The actions logged are deleted after the run
  (logged_actions_remove; --keep-actions keeps them), so that each run reads the world the last one read.
  The load generator (http_load.py) takes its CPU from the two CPUs the server runs on, so it is as
  cheap as it can be: one thread drives every
  session over raw sockets (epoll; one connection per request, as a browser's to a sync worker, read
  until the server closes it; only the status line and Set-Cookie headers parsed; the signed-in
  cookies kept as the server sets them). About 0.15 ms of CPU a request at ~300 requests/s, where the
  thread per session on http.client that preceded it spent about 0.35 ms and `requests` about 1.5 ms
  (README, "Mixed HTTP load"). A request's time runs from before its connection is opened to the end of
  the answer (the server's close), as before;
- the table gives, per kind and in all, requests, requests/s, p50 and p95 in ms, and errors (any
  status but the expected one, an answer cut short, or no whole answer within 30 s); then each worker's
  peak resident memory (VmHWM from /proc; psutil is not needed), the CPU this process spent per request
  (the once-a-second sampling of the CPU times among it), and the load average before, during (highest)
  and after.

The machine may be shared: read the numbers with the load average printed beside them.
"""

import argparse
import itertools
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
# The web workers and this process hash passwords alike (the sessions sign in with a password set here).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
os.environ.setdefault("DEBUG", "0")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp.oath import TOTP  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402
from http_load import TIMEOUT, RawSession, Request, Tally, drive  # noqa: E402
from scale_benchmarks import (  # noqa: E402
    _single_agency_responder,
    _visible_by_agency,
    interpreter_in_force,
    postgres_settings_apply,
    seed_up_to,
)

from agencies.models import Membership, Role  # noqa: E402
from cases.models import Action, Case  # noqa: E402
from handoffs.models import Handoff  # noqa: E402
from scale.seed import SCALE_PASSWORD  # noqa: E402

# (kind, weight for a responder, weight for a supervisor): a caseworker mostly reads lists and cases.
MIX = [
    ("list page", 25, 30),
    ("list API", 10, 10),
    ("detail page", 25, 30),
    ("detail API", 10, 10),
    ("log action API", 10, 0),
    ("handoffs incoming page", 10, 10),
    ("handoff page", 10, 10),
    # The supervisor's own pages (issue 15): the register (their home) and the review queue. Last and
    # weighed 0 for responders, so a responder's requests are drawn as before.
    ("supervision home", 0, 10),
    ("supervision queue", 0, 5),
]
SUPERVISOR_EVERY = 8
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Person:
    username: str
    agency_id: int
    supervisor: bool
    cases: list[int]
    handoffs: list[int]
    totp: tuple | None = None  # (bin_key, step, t0, digits, drift) of an enrolled authenticator


def _password_current(user) -> None:
    """The world may have been seeded under the test settings (a fast hasher the web workers lack):
    give the session's person the demo password under these settings' hasher."""
    from django.contrib.auth.hashers import get_hasher

    if not user.password.startswith(get_hasher().algorithm + "$"):
        user.set_password(SCALE_PASSWORD)
        user.save(update_fields=["password"])


def _authenticator(user) -> tuple:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    # The device refuses a time step it accepted before (a rerun within 30 s): forget it.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0,
                                                   throttling_failure_timestamp=None)
    return device.bin_key, device.step, device.t0, device.digits, device.drift


def pick_sessions(count: int) -> list[Person]:
    ranked = [agency for agency, _n in sorted(_visible_by_agency().items(), key=lambda item: (-item[1], item[0]))]
    people = []
    for index, agency_id in enumerate(ranked):
        if len(people) == count:
            break
        supervisor = (index + 1) % SUPERVISOR_EVERY == 0
        try:
            user = (Membership.objects.get(agency_id=agency_id, role=Role.SUPERVISOR).user if supervisor
                    else _single_agency_responder(agency_id))
        except (LookupError, Membership.DoesNotExist, Membership.MultipleObjectsReturned):
            continue
        cases = list(Case.objects.filter(lead_agency_id=agency_id).order_by("-updated_at", "-id")
                     .values_list("pk", flat=True)[:100])
        handoffs = list(Handoff.objects.filter(to_agency_id=agency_id).order_by("-id")
                        .values_list("pk", flat=True)[:50])
        if not cases:
            continue
        _password_current(user)
        people.append(Person(username=user.username, agency_id=agency_id, supervisor=supervisor, cases=cases,
                             handoffs=handoffs, totp=_authenticator(user) if supervisor else None))
    return people


# --- The web server --------------------------------------------------------------------------------


def start_gunicorn(workers: int, port: int, extra: list[str] | None = None) -> subprocess.Popen:
    env = {**os.environ, "API_THROTTLE_USER": "1000000/min", "DEBUG": "0"}
    process = subprocess.Popen(
        # The gunicorn of this interpreter's environment (the header's Python: `make bench VENV=...` measures
        # another build). Production's configuration file (config/gunicorn.py: the workers' garbage
        # collector); a later --config in --gunicorn replaces it.
        [str(Path(sys.executable).parent / "gunicorn"), "--config", str(ROOT / "config" / "gunicorn.py"),
         "config.wsgi:application", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning", *(extra or [])],
        cwd=ROOT, env=env, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return process
        except requests.RequestException:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        time.sleep(0.5)
    stop_gunicorn(process)
    raise RuntimeError("gunicorn did not answer /healthz within 120 s")


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The parent pid is the second field after the command name (which may hold spaces).
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(entry.name))
    return sorted(pids)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far (None once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    # utime and stime are the 14th and 15th fields of the line, the 12th and 13th after the name.
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def database_backends(name: str) -> list[int]:
    """PostgreSQL's server processes connected to database `name` on this machine (their process
    title reads "postgres: ... <user> <database> <address>")."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
            except OSError:
                continue
            if title and title[0] == "postgres:" and name in title[1:]:
                pids.append(int(entry.name))
    return pids


@dataclass
class CpuMeter:
    """CPU time used by a set of processes from start() on, sampled (a process that ends between
    two samples loses at most its last interval). Processes that appear after start() count from
    their birth (a new database connection's set-up is part of what requests cost)."""

    base: dict = field(default_factory=dict)
    last: dict = field(default_factory=dict)

    def start(self, pids: list[int]) -> None:
        self.base = {pid: cpu_seconds(pid) or 0.0 for pid in pids}
        self.last = dict(self.base)

    def sample(self, pids: list[int]) -> None:
        for pid in pids:
            value = cpu_seconds(pid)
            if value is not None:
                self.base.setdefault(pid, 0.0)
                self.last[pid] = value

    @property
    def seconds(self) -> float:
        return sum(self.last[pid] - self.base[pid] for pid in self.last)


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (the peak) of a process, in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _sep, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values


# --- The client ------------------------------------------------------------------------------------


def sign_in(base: str, person: Person) -> requests.Session:
    """As a browser: the sign-in form, then the code form when the app asks for the second factor."""
    session = requests.Session()
    form = session.get(f"{base}/login/", timeout=TIMEOUT)
    token = _CSRF_INPUT.search(form.text).group(1)
    response = session.post(f"{base}/login/", timeout=TIMEOUT, headers={"Referer": f"{base}/login/"},
                            data={"csrfmiddlewaretoken": token, "username": person.username,
                                  "password": SCALE_PASSWORD})
    if "/login/code/" in response.url:
        if person.totp is None:
            raise RuntimeError(f"{person.username} was asked for a second factor it has not enrolled")
        key, step, t0, digits, drift = person.totp
        totp = TOTP(key, step, t0, digits, drift)
        totp.time = time.time()
        token = _CSRF_INPUT.search(response.text).group(1)
        response = session.post(f"{base}/login/code/", timeout=TIMEOUT, headers={"Referer": response.url},
                                data={"csrfmiddlewaretoken": token, "code": f"{totp.token():0{digits}d}"})
    me = session.get(f"{base}/api/me/", timeout=TIMEOUT)
    if me.status_code != 200:
        raise RuntimeError(f"{person.username} is not signed in: /api/me/ answered {me.status_code} ({response.url})")
    return session


_ACTION = json.dumps({"type": "contact", "text": "Gọi điện hỏi thăm"}).encode()
# The path of each kind of GET, formatted with the case drawn (a path without a {} ignores it).
_PATHS = {"list page": "/cases/", "list API": "/api/cases/", "detail page": "/cases/{}/",
          "detail API": "/api/cases/{}/", "handoffs incoming page": "/handoffs/incoming/",
          "supervision home": "/supervision/", "supervision queue": "/supervision/reviews/"}


def requests_of(person: Person, rng: random.Random) -> Callable[[], Request]:
    """The person's next request, drawn by MIX's weights: (kind, method, path, body, expected status)."""
    kinds = [kind for kind, _r, _s in MIX]
    # rng.choices(kinds, weights) sums the weights on every call; the draws are the same.
    cumulative = list(itertools.accumulate(supervisor if person.supervisor else responder
                                           for _k, responder, supervisor in MIX))

    def next_request() -> Request:
        kind = rng.choices(kinds, cum_weights=cumulative)[0]
        case_id = rng.choice(person.cases)
        if kind == "log action API":
            return kind, "POST", f"/api/cases/{case_id}/actions/", _ACTION, 201
        if kind == "handoff page":
            path = f"/handoffs/{rng.choice(person.handoffs)}/" if person.handoffs else "/handoffs/incoming/"
        else:
            path = _PATHS[kind].format(case_id)
        return kind, "GET", path, None, 200

    return next_request


@dataclass
class Monitor:
    """What is sampled while the load runs, from the load generator's thread (`tick`, about once a
    second): the highest load average, and from the start of counting until its end the CPU time of the
    web workers, of PostgreSQL's backends for the database and of this process (the sampling's own share
    kept apart)."""

    workers: list[int]
    database: str
    start_counting: float
    stop: float
    load_peak: float = 0.0
    web_cpu: CpuMeter = field(default_factory=CpuMeter)
    database_cpu: CpuMeter = field(default_factory=CpuMeter)
    client_cpu: list = field(default_factory=lambda: [0.0, 0.0])  # this process's CPU seconds: start, last sample
    sampling_cpu: float = 0.0  # of which the samples themselves
    counting: bool = False

    def tick(self, now: float) -> float:
        began = time.process_time()
        self.load_peak = max(self.load_peak, os.getloadavg()[0])
        if not self.counting and now >= self.start_counting:
            self.counting = True
            self.web_cpu.start(self.workers)
            self.database_cpu.start(database_backends(self.database))
            self.client_cpu = [began] * 2
        elif self.counting and now <= self.stop:
            self.sample()
        if self.counting:
            self.sampling_cpu += time.process_time() - began
        return now + 1 if self.counting else min(now + 1, self.start_counting)

    def sample(self) -> None:
        self.web_cpu.sample(self.workers)
        self.database_cpu.sample(database_backends(self.database))
        self.client_cpu[1] = time.process_time()


def logged_actions_remove(people: list[Person], since) -> int:
    """Delete the actions the sessions logged since `since` (their timeline lines go with them: CaseEvent.action
    cascades), and return how many. Each run logs about ten actions a second on the same hundred cases an agency
    (the ones it reads), so without this every run read cases with more actions than the last: after sixteen
    runs the busiest agency's hundred had 27.6 actions each instead of the seeded world's 1.9, and its case pages
    rendered 35 timeline lines instead of about 8. Their audit events stay (the trail is append-only); no page
    of the mix reads them."""
    usernames = [person.username for person in people if not person.supervisor]
    _total, removed = Action.objects.filter(actor__username__in=usernames, created_at__gte=since).delete()
    return removed.get(Action._meta.label, 0)


def cache_in_force() -> str:
    """The cache the web workers use, for the header: a deployment's is Redis (REDIS_URL), which holds the
    API's per-user throttle windows and the menus; without REDIS_URL it is files under HOPLUC_VAR_DIR, a
    temporary file written and renamed on every API request, which a deployment never pays."""
    from django.conf import settings

    backend = settings.CACHES["default"]["BACKEND"]
    if "Redis" in backend:
        return f"Cache: Redis ({backend}), as deployed"
    return (f"Cache: {backend}, NOT a deployment's: set REDIS_URL to measure what production runs "
            "(the API throttle's window and the menus are then in Redis)")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=int(os.environ.get("BENCH_CASES", "20000")))
    parser.add_argument("--sessions", type=int, default=int(os.environ.get("BENCH_SESSIONS", "16")))
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", "60")))
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8765")))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-actions", action="store_true",
                        help="keep the actions the sessions log (by default removed after the run, so that the next "
                             "run reads the same world)")
    parser.add_argument("--gunicorn", default="",
                        help="more gunicorn options, e.g. '--worker-class gthread --threads 4'")
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql":
        print("The mixed load measures PostgreSQL: set DATABASE_URL to a PostgreSQL database.", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)
    print("PostgreSQL settings in force: " + ", ".join(postgres_settings_apply()), flush=True)
    print(cache_in_force(), flush=True)
    print(interpreter_in_force(), flush=True)
    cases = seed_up_to(args.cases, args.seed)
    people = pick_sessions(args.sessions)
    print(f"{len(people)} sessions: {sum(not p.supervisor for p in people)} responders and "
          f"{sum(p.supervisor for p in people)} supervisors (second factor) of {len(people)} agencies", flush=True)
    database = connection.settings_dict["NAME"]
    connection.close()  # this process keeps no connection open while the server works

    logging_since = timezone.now()
    server = start_gunicorn(args.workers, args.port, args.gunicorn.split())
    base = f"http://127.0.0.1:{args.port}"
    try:
        started = time.monotonic()
        sessions = [RawSession("127.0.0.1", args.port, {cookie.name: cookie.value for cookie in
                                                         sign_in(base, person).cookies}) for person in people]
        print(f"Signed in through the forms in {time.monotonic() - started:.1f} s "
              f"(password hashing included; not counted below)", flush=True)
        workers = worker_pids(server.pid)
        load_before = os.getloadavg()[0]
        tally = Tally()
        start_counting = time.monotonic() + args.warmup
        stop = start_counting + args.seconds
        monitor = Monitor(workers, database, start_counting, stop, load_peak=load_before)
        drive([(session, requests_of(person, random.Random(args.seed * 1000 + index)))
               for index, (person, session) in enumerate(zip(people, sessions, strict=True))],
              tally, start_counting, stop, monitor.tick)
        monitor.sample()
        memory = {pid: memory_mb(pid) for pid in workers if Path(f"/proc/{pid}").exists()}
        load_after = os.getloadavg()[0]
    finally:
        stop_gunicorn(server)
        if not args.keep_actions:
            removed = logged_actions_remove(people, logging_since)
            print(f"Removed the {removed} actions the sessions logged (--keep-actions keeps them)", flush=True)

    all_times = [ms for times in tally.times.values() for ms in times]
    total_errors = sum(tally.errors.values())
    print()
    print(f"## Mixed load at {cases:,} cases: gunicorn {args.workers} sync workers, {len(people)} sessions without "
          f"think time, {args.seconds:.0f} s after {args.warmup:.0f} s warm-up ({os.cpu_count()} CPUs, PostgreSQL "
          f"{connection.cursor().connection.info.server_version})")
    print()
    print("| requests | count | req/s | p50 ms | p95 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind, _r, _s in MIX:
        times = tally.times.get(kind)
        if times:
            print(f"| {kind} | {len(times)} | {len(times) / args.seconds:.1f} | {statistics.median(times):.0f} | "
                  f"{_percentile(times, 0.95):.0f} | {tally.errors.get(kind, 0)} |")
    if all_times:
        print(f"| **all** | {len(all_times)} | **{len(all_times) / args.seconds:.1f}** | "
              f"{statistics.median(all_times):.0f} | **{_percentile(all_times, 0.95):.0f}** | {total_errors} |")
    if all_times:
        count = len(all_times)
        web_ms, database_ms = monitor.web_cpu.seconds * 1000 / count, monitor.database_cpu.seconds * 1000 / count
        print()
        print(f"CPU per request (user + system): web workers {web_ms:.1f} ms, PostgreSQL {database_ms:.1f} ms, "
              f"together {web_ms + database_ms:.1f} ms: {os.cpu_count()} CPUs serve at most "
              f"{os.cpu_count() * 1000 / (web_ms + database_ms):.0f} requests/s")
        client_ms = (monitor.client_cpu[1] - monitor.client_cpu[0]) * 1000 / count
        sampling_ms = monitor.sampling_cpu * 1000 / count
        print(f"The load generator (this process, on the same CPUs) used {client_ms:.3f} ms of CPU per request "
              f"(of which {sampling_ms:.3f} ms sampling the CPU times above)")
    print()
    print("| web worker (pid) | peak RSS MB (VmHWM) | RSS MB at the end |")
    print("|---|---:|---:|")
    for pid, values in memory.items():
        print(f"| {pid} | {values.get('VmHWM', 0):.0f} | {values.get('VmRSS', 0):.0f} |")
    print()
    print(f"Load average (1 min): {load_before:.1f} before, {monitor.load_peak:.1f} at most during, "
          f"{load_after:.1f} after")
    for kind, example in tally.examples.items():
        print(f"First error of {kind}: {example}")
    return 0 if all_times else 1


if __name__ == "__main__":
    sys.exit(main())
