"""The mixed load's client (benchmarks/scale_mixed.py): signed-in sessions driven in closed loops, all in one
thread over raw sockets, so that the load generator takes as little as it can of the CPUs it shares with
the server it measures.

What the server gets is what a browser (or `requests`, or http.client) would send it: the method, path,
Host, Accept-Encoding: identity, Accept, User-Agent, the session's cookies, and on a POST the JSON body
with its Content-Type, Content-Length, CSRF header and Referer. One connection per request, closed by
the server after its answer (`Connection: close` is asked, which gunicorn's sync workers do anyway); the
answer is read to that close, and only its status line, Content-Length and Set-Cookie headers are
parsed. Cookies are kept as a browser keeps them: a Set-Cookie replaces the value, one with Max-Age=0
or an empty value deletes it (a renewed session cookie, the CSRF cookie after the sign-in).

Costs, measured on the 2-core machine the server runs on (README, "Mixed HTTP load"): a thread per
session on http.client spent about 0.35 ms of CPU per request against a stub server at ~290 requests/s;
this loop about 0.15 ms, most of it in the kernel (a connection's set-up and close).
"""

import http.cookies
import re
import select
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

TIMEOUT = 30
_READ_SIZE = 1 << 18  # an answer of the mix in one read
_SET_COOKIE = re.compile(rb"\r\nSet-Cookie:[ \t]*([^\r\n]*)", re.IGNORECASE)
_CONTENT_LENGTH = re.compile(rb"\r\nContent-Length:[ \t]*(\d+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\nTransfer-Encoding:[ \t]*chunked", re.IGNORECASE)
_MAX_AGE_0 = re.compile(r";\s*max-age\s*=\s*0\s*(?:;|$)", re.IGNORECASE)


class AnswerError(Exception):
    """An answer that is not a whole HTTP response (counted as an error, as http.client's exceptions were)."""


@dataclass
class Tally:
    """The measured requests: milliseconds per kind, errors per kind and the first error of each."""

    times: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, ms: float, error: str | None) -> None:
        self.times.setdefault(kind, []).append(ms)
        if error:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            self.examples.setdefault(kind, error)


class RawSession:
    """A signed-in person's cookies and the bytes of their requests, built from a few cached parts (only the
    path, the Cookie header and a POST's CSRF header vary)."""

    def __init__(self, host: str, port: int, cookies: dict[str, str]):
        self.address = (host, port)
        self.cookies = dict(cookies)
        self._fixed = (f"Host: {host}:{port}\r\nAccept-Encoding: identity\r\nAccept: */*\r\n"
                       "User-Agent: hopluc-scale-mixed\r\nConnection: close\r\n")
        self._referer = f"http://{host}:{port}/"
        self._cookie_header: str | None = None  # rebuilt after a cookie changes

    def request_bytes(self, method: str, path: str, body: bytes | None = None) -> bytes:
        if self._cookie_header is None:
            self._cookie_header = ("Cookie: " + "; ".join(f"{name}={value}" for name, value in self.cookies.items())
                                   + "\r\n") if self.cookies else ""
        if body is None:
            return f"{method} {path} HTTP/1.1\r\n{self._fixed}{self._cookie_header}\r\n".encode("latin-1")
        return (f"{method} {path} HTTP/1.1\r\n{self._fixed}{self._cookie_header}Content-Type: application/json\r\n"
                f"X-CSRFToken: {self.cookies.get('csrftoken', '')}\r\nReferer: {self._referer}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body

    def answer(self, data: bytes) -> int:
        """The status of a whole answer (everything the server sent before closing), keeping the cookies it
        sets; AnswerError when it is cut short or not HTTP."""
        head_end = data.find(b"\r\n\r\n")
        if head_end < 0 or not data.startswith(b"HTTP/1."):
            raise AnswerError(f"not an HTTP answer: {data[:40]!r}")
        head = data[:head_end]
        try:
            status = int(head[9:12])
        except ValueError:
            raise AnswerError(f"bad status line: {head[:40]!r}") from None
        # http.client refused an answer shorter than its Content-Length (IncompleteRead), or a chunked one
        # without its last chunk.
        length = _CONTENT_LENGTH.search(head)
        body = len(data) - head_end - 4
        if (int(length.group(1)) != body) if length else (_CHUNKED.search(head) and not data.endswith(b"0\r\n\r\n")):
            raise AnswerError(f"incomplete answer: {body} bytes of body")
        if b"et-Cookie" in head or b"et-cookie" in head:
            for header in _SET_COOKIE.findall(head):
                self.cookie_set(header.decode("latin-1"))
        return status

    def cookie_set(self, header: str) -> None:
        """One Set-Cookie header, as http.cookies reads it (its attributes other than Max-Age ignored: every
        cookie of the app is for the whole site)."""
        pair, _semicolon, _attributes = header.partition(";")
        name, _equals, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if value.startswith('"'):
            # A quoted value (Django's deletion sends `name=""`): http.cookies unquotes it.
            for cookie_name, morsel in http.cookies.SimpleCookie(header).items():
                self._cookie_keep(cookie_name, morsel.value, morsel["max-age"] == "0")
        else:
            self._cookie_keep(name, value, _MAX_AGE_0.search(header) is not None)

    def _cookie_keep(self, name: str, value: str, expired: bool) -> None:
        if expired or not value:
            self.cookies.pop(name, None)  # Django deletes a cookie with Max-Age=0 and no value
        elif self.cookies.get(name) == value:
            return
        else:
            self.cookies[name] = value
        self._cookie_header = None


# A request to send: (kind, method, path, body or None, expected status).
Request = tuple[str, str, str, bytes | None, int]


@dataclass(eq=False)
class _Loop:
    """One session's closed loop and its request in flight."""

    session: RawSession
    next_request: Callable[[], Request]
    sock: socket.socket | None = None
    chunks: list[bytes] = field(default_factory=list)
    request: Request | None = None
    started: float = 0.0  # time.perf_counter() before the connection was opened
    deadline: float = 0.0  # time.monotonic() by which the whole answer must have come
    counted: bool = False


def drive(loops: list[tuple[RawSession, Callable[[], Request]]], tally: Tally, start_counting: float,
          stop: float, tick: Callable[[float], float] | None = None) -> None:
    """Drive every session in a closed loop without think time until `stop` (time.monotonic()), all in this
    thread; a request whose loop began at or after `start_counting` is counted in `tally`: its kind, the
    milliseconds from before its connection was opened to the end of the answer, and an error (a status
    other than the expected one, no whole answer within TIMEOUT seconds, a refused or reset connection).
    `tick(now)` is called first and then at the time it returns (the caller samples CPU and memory there);
    requests are checked against TIMEOUT every second."""
    poller = select.epoll()
    in_flight: dict[int, _Loop] = {}

    def finish(loop: _Loop, error: str | None) -> None:
        elapsed = (time.perf_counter() - loop.started) * 1000
        if loop.sock is not None:
            loop.sock.close()  # which also takes it off the epoll set
            loop.sock = None
        if loop.counted:
            tally.add(loop.request[0], elapsed, error)
        loop.chunks = []

    def begin(loop: _Loop) -> None:
        """Send the loop's next request (while time is left), recording each that fails at once."""
        while (now := time.monotonic()) < stop:
            loop.counted = now >= start_counting
            loop.deadline = now + TIMEOUT
            loop.request = request = loop.next_request()
            loop.started = time.perf_counter()
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                # Blocking: on the loopback the kernel completes the handshake at once (the server's listen
                # backlog takes it before a worker accepts it), and a request fits the empty send buffer.
                sock.connect(loop.session.address)
                sock.sendall(loop.session.request_bytes(request[1], request[2], request[3]))
                # Wake this thread when the server has closed the connection (or _READ_SIZE bytes wait),
                # not at every segment of the answer: one wake-up a request instead of three or more.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, _READ_SIZE)
                sock.setblocking(False)
                poller.register(sock.fileno(), select.EPOLLIN)
            except OSError as exc:
                sock.close()
                finish(loop, f"{type(exc).__name__}: {exc}")
                continue
            loop.sock = sock
            in_flight[sock.fileno()] = loop
            return

    for session, next_request in loops:
        begin(_Loop(session, next_request))
    next_tick = time.monotonic()
    while in_flight:
        now = time.monotonic()
        if now >= next_tick:
            next_tick = min(now + 1, tick(now)) if tick is not None else now + 1
            for fd, loop in list(in_flight.items()):
                if now >= loop.deadline:
                    del in_flight[fd]
                    finish(loop, f"TimeoutError: no whole answer within {TIMEOUT} s")
                    begin(loop)
            continue
        for fd, _events in poller.poll(max(0.0, next_tick - now)):
            loop = in_flight[fd]
            try:
                while chunk := loop.sock.recv(_READ_SIZE):
                    loop.chunks.append(chunk)
            except BlockingIOError:
                continue  # the rest of a long answer is still to come
            except OSError as exc:  # a reset connection
                del in_flight[fd]
                finish(loop, f"{type(exc).__name__}: {exc}")
                begin(loop)
                continue
            # The server closed the connection: the answer is whole.
            del in_flight[fd]
            error = None
            try:
                status = loop.session.answer(b"".join(loop.chunks))
                if status != loop.request[4]:
                    error = f"{status} {loop.request[1]} {loop.request[2]}"
            except AnswerError as exc:
                error = f"{type(exc).__name__}: {exc}"
            finish(loop, error)
            begin(loop)
    poller.close()
