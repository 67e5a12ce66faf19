"""Helpers that start real HopLuc processes (Celery workers, manage.py) for the ops tests."""

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def process_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    """The test run's environment with its own var dir; a value of None removes the variable."""
    env = {**os.environ, "HOPLUC_VAR_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    env.pop("CELERY_FS_DIR", None)
    # Set by the browser fixtures for this process only; a deployment must never inherit it.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes: only its parent's wait() is missing.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


@contextmanager
def celery_worker(*, queue: str, env: dict[str, str], log_path: Path, pool: str = "solo"):
    """Run `celery -A config worker` consuming only `queue`; stop it and every child on exit.

    The queue name is unique per test, so parallel test runs never take each other's messages.
    """
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        "-Q", queue, "-n", f"{queue}@%h", f"--pool={pool}", "--concurrency=1",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
    ]
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    seen: set[int] = set()
    try:
        yield worker
    finally:
        seen.update(_children(worker.pid))
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
        # Pool children sit in their own process groups (config.celery); they must still be gone.
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in seen) and time.monotonic() < deadline:
            time.sleep(0.1)
        leftovers = [pid for pid in seen if _alive(pid)]
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
        assert not leftovers, f"worker left processes behind: {leftovers}"


def worker_log(log_path: Path) -> str:
    return log_path.read_text(errors="replace")[-4000:]


SETTINGS_OF = """
import json, sys
from django.conf import settings
print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}, default=str))
"""


def settings_of(env: dict[str, str], *names: str) -> dict:
    """The settings `names` as a process started with `env` has them: its DJANGO_SETTINGS_MODULE imported
    by django.conf.settings, as every process does first. Without django.setup(): loading the apps
    (some 1.7 s of CPU a process, ten times the settings' import) changes no setting."""
    result = subprocess.run([sys.executable, "-c", SETTINGS_OF, *names], cwd=BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])
