"""Servers the fault drills start, stop and kill on loopback: an SMTP sink (aiosmtpd) that can be slow
or away, a fake SMS gateway that can fail, and private Redis and PostgreSQL instances.

The machine's own PostgreSQL (5432) and Redis (6379) are shared and never touched here: a drill that
kills a broker or a database kills only an instance it started itself, on a free port.
"""

import asyncio
import contextlib
import email
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


# --- SMTP ------------------------------------------------------------------------------------------


class SmtpSink:
    """An SMTP server on loopback that keeps what it accepts: (time received, Message-ID, recipient).

    A message counts as received once its DATA is complete, before the 250 reply, as a real mail
    server stores it: a client that dies waiting for the reply has still delivered it. `reply_delay`
    holds that reply back; `stop()` closes the port (connections refused) and `start()` opens it again.
    """

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.received: list[tuple[float, str, str]] = []
        self.reply_delay = 0.0
        self.data_seen = threading.Event()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content)
        self.received.append((time.monotonic(), message["Message-ID"], ",".join(envelope.rcpt_tos)))
        self.data_seen.set()
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)
        return "250 Message accepted for delivery"

    def start(self) -> "SmtpSink":
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def message_ids(self) -> list[str]:
        return [message_id for _at, message_id, _to in self.received]


# --- SMS gateway -----------------------------------------------------------------------------------


class FakeSmsGateway:
    """The HTTP gateway HttpGatewaySmsBackend posts to: 503 while `down`, 200 with an id otherwise."""

    def __init__(self):
        self.down = False
        self.received: list[tuple[float, dict]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's hook name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if gateway.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                gateway.received.append((time.monotonic(), body))
                answer = json.dumps({"id": f"gw-{len(gateway.received)}"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- Redis -----------------------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of this test alone, without persistence, on a free port."""

    def __init__(self, workdir: Path):
        self.port, self.workdir, self.process = free_port(), workdir, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def _pong(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> "PrivateRedis":
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until(self._pong, timeout=10, what="the private redis-server")
        return self

    def kill(self) -> None:
        """SIGKILL, as a crashed or OOM-killed Redis: nothing saved, every connection dropped."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


# --- PostgreSQL ------------------------------------------------------------------------------------


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """A PostgreSQL cluster of this test alone: initdb in a temporary folder, on a free port.

    PostgreSQL refuses to run as root, and CI runs as root: the cluster then runs as the `postgres`
    system user (runuser), in a folder that user owns."""

    def __init__(self):
        self.bin = postgres_bin()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="hopluc-pg-"))
        self.data = self.dir / "data"
        self.as_root = os.geteuid() == 0
        if self.as_root:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)

    def _run(self, *command: str, timeout: float = 60) -> subprocess.CompletedProcess:
        if self.as_root:
            command = ("runuser", "-u", "postgres", "--", *command)
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
        return result

    def init(self) -> "PrivatePostgres":
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        return self

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c full_page_writes=off -c synchronous_commit=off")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-o", options,
                  "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        """`fast`: what a restart by an administrator or a failover does to clients — every session is
        terminated and new connections are refused until start()."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def copy_database(self, *, source: dict, name: str) -> None:
        """Create `name` here as a copy of the `source` database (Django settings_dict), schema and rows."""
        env = {**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""}
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        dump = subprocess.run(
            [str(self.bin / "pg_dump"), "-h", source.get("HOST") or "127.0.0.1", "-p", str(source.get("PORT") or 5432),
             "-U", source.get("USER") or "postgres", "--no-owner", "--no-privileges", source["NAME"]],
            capture_output=True, env=env, timeout=60,
        )
        assert dump.returncode == 0, dump.stderr.decode()
        load = subprocess.run(
            [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", name, "-q",
             "-v", "ON_ERROR_STOP=1"],
            input=dump.stdout, capture_output=True, timeout=60,
        )
        assert load.returncode == 0, load.stderr.decode()[-2000:]

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(AssertionError):
                self.stop(mode="immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
