"""The mixed load's client (benchmarks/http_load.py, driven by benchmarks/scale_mixed.py): against a local
HTTP server, the requests it sends must be those a browser sends (cookies kept as the server sets them, CSRF
on the POST), and its tally must count what was asked of it (a status other than the expected one, a cut
answer, no answer in time are errors); scale_mixed's draws must stay MIX's."""

import datetime
import itertools
import json
import os
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import time_machine

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import http_load  # noqa: E402

_environ = os.environ.copy()
import scale_mixed  # noqa: E402

# Its defaults for the web workers it starts (DEBUG=0) are not this process's.
os.environ.clear()
os.environ.update(_environ)

from django.utils import timezone  # noqa: E402

from cases.models import Action, CaseEvent, CaseEventType  # noqa: E402
from cases.selectors import case_get_for_user  # noqa: E402
from cases.services import action_log  # noqa: E402
from tests.cases.services_helpers import open_case  # noqa: E402


class _Handler(BaseHTTPRequestHandler):
    """Answers as the web workers do (HTTP/1.0 here: one answer, then the connection is closed) and
    writes down what each request carried."""

    def log_message(self, *args):
        pass

    def _answer(self, status: int, body: bytes = b"ok", cookies: tuple[str, ...] = (), length: int | None = None):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for cookie in cookies:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.server.seen.append(("GET", self.path, self.headers.get("Cookie"), None))
        if self.path == "/renew/":
            self._answer(200, cookies=("sessionid=second; expires=Sun, 06 Dec 2026 23:30:00 GMT; HttpOnly; "
                                       "Max-Age=1800; Path=/; SameSite=Lax",))
        elif self.path == "/sign-out/":
            self._answer(200, cookies=('sessionid=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/',
                                       "csrftoken=fresh-token; Max-Age=31449600; Path=/; SameSite=Lax"))
        elif self.path == "/missing/":
            self._answer(404)
        elif self.path == "/cut/":
            self._answer(200, b"half", length=1000)
        else:
            self._answer(200, b"x" * 300_000)  # more than one read

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        cookie = self.headers.get("Cookie") or ""
        self.server.seen.append(("POST", self.path, cookie, (self.headers.get("X-CSRFToken"),
                                                              self.headers.get("Content-Type"),
                                                              self.headers.get("Referer"), body)))
        # As Django's CSRF check: the header must repeat the cookie's token.
        token = self.headers.get("X-CSRFToken")
        self._answer(201 if token and f"csrftoken={token}" in cookie else 403)


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.seen = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _scripted(requests: list[http_load.Request]):
    """A session's next request, taken in turn from `requests` (again and again)."""
    turn = itertools.cycle(requests)
    return lambda: next(turn)


ACTION = json.dumps({"type": "contact"}).encode()
SCRIPT = [
    ("page", "GET", "/page/", None, 200),
    ("renew", "GET", "/renew/", None, 200),
    ("page", "GET", "/page/", None, 200),
    ("action", "POST", "/actions/", ACTION, 201),
    ("sign-out", "GET", "/sign-out/", None, 200),
    ("page", "GET", "/page/", None, 200),
    ("missing", "GET", "/missing/", None, 200),
    ("cut", "GET", "/cut/", None, 200),
]


def test_the_client_keeps_the_cookies_the_server_sets_and_sends_the_csrf_header_as_a_browser(server):
    port = server.server_address[1]
    session = http_load.RawSession("127.0.0.1", port, {"csrftoken": "first-token", "sessionid": "first"})
    tally = http_load.Tally()
    started = time.monotonic()
    # Long enough for a whole round of the script on a loaded machine (CI with coverage, two cores).
    http_load.drive([(session, _scripted(SCRIPT))], tally, started, started + 1.5)

    first = server.seen[:len(SCRIPT)]
    assert [(method, path) for method, path, _c, _p in first] == [(request[1], request[2]) for request in SCRIPT]
    cookies = [cookie for _m, _p, cookie, _post in first]
    assert cookies[:4] == ["csrftoken=first-token; sessionid=first", "csrftoken=first-token; sessionid=first",
                           "csrftoken=first-token; sessionid=second", "csrftoken=first-token; sessionid=second"]
    # Max-Age=0 deleted the session cookie; the new CSRF cookie replaced the old.
    assert cookies[5] == "csrftoken=fresh-token"
    token, content_type, referer, body = first[3][3]
    assert (token, content_type, referer, body) == ("first-token", "application/json", f"http://127.0.0.1:{port}/",
                                                    ACTION)
    # Once the CSRF cookie changed, the POST's header follows it (the server answers 201 only then).
    later_posts = [post for method, _p, _c, post in server.seen[len(SCRIPT):] if method == "POST"]
    assert later_posts and all(post[0] == "fresh-token" for post in later_posts)


def test_the_tally_counts_an_unexpected_status_and_a_cut_answer_as_errors_and_times_every_request(server):
    session = http_load.RawSession("127.0.0.1", server.server_address[1], {"csrftoken": "t", "sessionid": "s"})
    tally = http_load.Tally()
    started = time.monotonic()
    http_load.drive([(session, _scripted(SCRIPT))], tally, started, started + 1.5)

    rounds = len(tally.times["missing"])
    assert rounds >= 1
    # Counted from the start: every request the server saw.
    assert sum(len(times) for times in tally.times.values()) == len(server.seen)
    assert tally.errors == {"missing": rounds, "cut": len(tally.times["cut"])}
    assert tally.examples["missing"] == "404 GET /missing/"
    assert tally.examples["cut"].startswith("AnswerError: incomplete answer")
    assert all(ms > 0 for times in tally.times.values() for ms in times)


def test_requests_before_counting_starts_are_not_counted(server):
    session = http_load.RawSession("127.0.0.1", server.server_address[1], {})
    tally = http_load.Tally()
    started = time.monotonic()
    # Counting starts at 0.3 s and the drive stops at 2 s: a window wide enough that a loaded machine (CI,
    # with coverage, on two cores) still finishes a counted request in it; 0.1 s was not (KeyError: 'page').
    http_load.drive([(session, _scripted(SCRIPT[:1]))], tally, started + 0.3, started + 2.0)
    assert len(server.seen) > len(tally.times.get("page", [])) > 0


def test_a_server_that_never_answers_is_an_error_after_the_timeout(silent_port, monkeypatch):
    monkeypatch.setattr(http_load, "TIMEOUT", 0.2)
    session = http_load.RawSession("127.0.0.1", silent_port, {})
    tally = http_load.Tally()
    started = time.monotonic()
    http_load.drive([(session, _scripted(SCRIPT[:1]))], tally, started, started + 0.1)
    assert tally.errors == {"page": 1}
    assert tally.examples["page"].startswith("TimeoutError")
    assert 200 <= tally.times["page"][0] < 2000


def test_a_refused_connection_is_an_error():
    probe = __import__("socket").socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    tally = http_load.Tally()
    started = time.monotonic()
    http_load.drive([(http_load.RawSession("127.0.0.1", port, {}), _scripted(SCRIPT[:1]))], tally, started,
                    started + 0.05)
    assert tally.errors["page"] == len(tally.times["page"]) > 0
    assert tally.examples["page"].startswith("ConnectionRefusedError")


@pytest.mark.parametrize("supervisor", [False, True])
def test_the_sessions_draw_the_mix_as_before(supervisor):
    """The same draws, in the same order, as the threads on http.client made: rng.choices by MIX's
    weights, then a case (and a handoff for a handoff's page)."""
    person = scale_mixed.Person(username="u", agency_id=1, supervisor=supervisor, cases=list(range(10, 60)),
                                handoffs=[7, 8, 9])
    drawn = scale_mixed.requests_of(person, random.Random(5))
    rng = random.Random(5)
    kinds = [kind for kind, _r, _s in scale_mixed.MIX]
    weights = [supervisor_weight if supervisor else responder for _k, responder, supervisor_weight in scale_mixed.MIX]
    paths = {"list page": "/cases/", "list API": "/api/cases/", "detail page": "/cases/{}/",
             "detail API": "/api/cases/{}/", "handoffs incoming page": "/handoffs/incoming/",
             "supervision home": "/supervision/", "supervision queue": "/supervision/reviews/"}
    for _turn in range(500):
        kind = rng.choices(kinds, weights)[0]
        case_id = rng.choice(person.cases)
        if kind == "log action API":
            expected = (kind, "POST", f"/api/cases/{case_id}/actions/",
                        json.dumps({"type": "contact", "text": "Gọi điện hỏi thăm"}).encode(), 201)
        elif kind == "handoff page":
            expected = (kind, "GET", f"/handoffs/{rng.choice(person.handoffs)}/", None, 200)
        else:
            expected = (kind, "GET", paths[kind].format(case_id), None, 200)
        assert drawn() == expected


def test_the_mixed_load_says_whether_its_cache_is_a_deployments(settings):
    settings.CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/9"}}
    assert scale_mixed.cache_in_force().startswith("Cache: Redis")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                                   "LOCATION": "/tmp/unused"}}  # noqa: S108
    said = scale_mixed.cache_in_force()
    assert "NOT a deployment's" in said and "REDIS_URL" in said


def test_the_benchmarks_name_their_python_and_the_mixed_load_starts_that_environments_gunicorn(monkeypatch, tmp_path):
    """The header names the interpreter (its build decides the CPU a request costs: README, "Which Python
    the benchmarks run on"), and the web server the mixed load starts is the gunicorn beside that
    interpreter, so that a benchmark run with another virtualenv's Python measures that build throughout."""
    import platform

    import scale_benchmarks

    said = scale_benchmarks.interpreter_in_force()
    assert said.startswith(f"Python {platform.python_version()} ({sys.executable}, base {sys.base_prefix})")
    linked = f"libpython{sys.version_info.major}.{sys.version_info.minor}" in Path("/proc/self/maps").read_text()
    assert said.endswith(f"shared library: {'yes' if linked else 'no'}")

    started = []

    class _Started(Exception):
        pass

    def popen(args, **kwargs):
        started.append(args)
        raise _Started

    other = tmp_path / "other-venv" / "bin"
    monkeypatch.setattr(scale_mixed.sys, "executable", str(other / "python"))
    monkeypatch.setattr(scale_mixed.subprocess, "Popen", popen)
    with pytest.raises(_Started):
        scale_mixed.start_gunicorn(2, 8799)
    assert started[0][0] == str(other / "gunicorn")


def test_the_actions_a_run_logged_are_removed_after_it_and_nothing_else(world):
    """Each run must read the world it was given: what its responders logged since it started goes, with the
    timeline lines of those actions; an action logged before, or by a person who is not one of its responders,
    stays."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        case = open_case(world)

    def logged(person, minutes: int, text: str) -> Action:
        with time_machine.travel(start + datetime.timedelta(minutes=minutes), tick=False):
            return action_log(access=case_get_for_user(user=person, case_id=case.pk), actor=person,
                              data={"type": "contact", "text": text})

    before = logged(world.lead_responder, 1, "trước")
    by_supervisor = logged(world.lead_supervisor, 3, "giám sát")
    during = [logged(world.lead_responder, 3, "trong"), logged(world.lead_responder, 4, "trong")]
    people = [scale_mixed.Person(username=world.lead_responder.username, agency_id=world.police.pk,
                                 supervisor=False, cases=[case.pk], handoffs=[]),
              scale_mixed.Person(username=world.lead_supervisor.username, agency_id=world.police.pk,
                                 supervisor=True, cases=[case.pk], handoffs=[])]

    assert scale_mixed.logged_actions_remove(people, start + datetime.timedelta(minutes=2)) == 2

    assert set(Action.objects.filter(case=case)) == {before, by_supervisor}
    lines = CaseEvent.objects.filter(case=case, type=CaseEventType.ACTION_LOGGED)
    assert {line.action_id for line in lines} == {before.pk, by_supervisor.pk}
    assert not CaseEvent.objects.filter(action_id__in=[action.pk for action in during]).exists()
