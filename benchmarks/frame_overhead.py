"""What every request pays around its view (the "frame"), in process: middleware, session, sign-in,
second-factor gate, CSRF, CSP, throttling, and for pages the context processors and base.html.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hopluc_bench .venv/bin/python benchmarks/frame_overhead.py \\
        [--runs 200] [--profile html|api] [--top 40]

Signs in a responder as request_overhead.py does and sends requests of the mix's addresses, with each
address's view swapped for a stand-in that does nothing a view of its kind would not do (the URL is
resolved as before, so the gates see the real view's name): for a page, `login_required` and the
rendering of a template that extends base.html with an empty content block; for the API, a DRF view
with the project's default authentication, permission and throttle classes that answers `{}`
(201 to a POST). The CPU of Django's handler (`get_response`: the whole middleware chain and the
stand-in) is timed, not the test client's building of the request; printed: the median and the least
over --runs, and the number of Python function calls of one request (cProfile's count: the same
from run to run whatever the machine's load, so that two versions compare on a busy machine).
--profile runs cProfile over the stand-in requests of one sort (html or api).
"""

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time

# First: request_overhead puts the project on the path, sets the settings it measures under (the web
# workers': config.settings.dev, DEBUG=0, the API throttle lifted) and sets Django up.
from request_overhead import sign_in

# isort: split
from django.contrib.auth.decorators import login_required
from django.core.handlers.base import BaseHandler
from django.http import HttpResponse
from django.template import engines
from rest_framework.response import Response
from rest_framework.views import APIView
from scale_mixed import pick_sessions

_PROBE_TEMPLATE = engines["jinja2"].from_string('{% extends "base.html" %}{% block content %}{% endblock %}')


@login_required
def _page_probe(request, *args, **kwargs):
    return HttpResponse(_PROBE_TEMPLATE.render({}, request))


class _ApiProbe(APIView):
    def get(self, request, *args, **kwargs):
        return Response({})

    def post(self, request, *args, **kwargs):
        return Response({}, status=201)


_api_probe = _ApiProbe.as_view()


def _install_probe():
    """Every resolved view is swapped for the stand-in of its sort; the match keeps its names."""
    resolve_request = BaseHandler.resolve_request

    def probing(self, request):
        match = resolve_request(self, request)
        match.func = _api_probe if request.path.startswith("/api/") else _page_probe
        return match

    BaseHandler.resolve_request = probing


_HANDLER_CPU: list[float] = []


def _time_handler():
    get_response = BaseHandler.get_response

    def timed(self, request):
        started = time.process_time()
        try:
            return get_response(self, request)
        finally:
            _HANDLER_CPU.append((time.process_time() - started) * 1000)

    BaseHandler.get_response = timed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--profile", choices=["", "html", "api"], default="")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)
    responder = next(p for p in pick_sessions(8) if not p.supervisor)
    client = sign_in(responder)
    case_id = responder.cases[0]
    _install_probe()
    _time_handler()
    token = client.cookies["csrftoken"].value
    requests = {
        "page GET (/cases/)": lambda: client.get("/cases/"),
        "page GET (/cases/<id>/)": lambda: client.get(f"/cases/{case_id}/"),
        "API GET (/api/cases/)": lambda: client.get("/api/cases/"),
        "API POST (actions)": lambda: client.post(f"/api/cases/{case_id}/actions/", {}, content_type="application/json",
                                                  HTTP_X_CSRFTOKEN=token),
    }
    print(f"{'stand-in request':<26} {'CPU ms median':>13} {'min':>6} {'calls':>6}   "
          f"(of {args.runs}; calls: Python function calls per request; load {os.getloadavg()[0]:.2f})")
    for name, send in requests.items():
        for _ in range(5):
            response = send()
            assert response.status_code in (200, 201), (name, response.status_code)
        _HANDLER_CPU.clear()
        for _ in range(args.runs):
            send()
        median, least = statistics.median(_HANDLER_CPU), min(_HANDLER_CPU)
        counter = cProfile.Profile()
        counter.runcall(send)
        calls = pstats.Stats(counter).total_calls
        print(f"{name:<26} {median:>13.3f} {least:>6.3f} {calls:>6}", flush=True)
    if args.profile:
        send = requests["page GET (/cases/)" if args.profile == "html" else "API GET (/api/cases/)"]
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(args.runs):
            send()
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
