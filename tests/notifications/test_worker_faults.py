"""Faults a real Celery worker must survive (Principle 3: a notification goes out exactly once).

Each test starts `celery -A config worker` subprocesses on their own queue, against the test
database (transactional_db, so the worker sees committed rows) and the real broker: Redis when
REDIS_URL is set, the filesystem transport otherwise. Emails are written to files by the worker
and counted; SMTP is never contacted.
"""

import datetime
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections
from django.utils import timezone

from notifications.delivery import outbox_relay_sweep
from notifications.models import Deadline, Notification, NotificationKind, OutboxMessage
from notifications.services import deadline_create, deadline_sweep, notify
from notifications.tasks import sweep_deadlines

from .conftest import broker_pointing_at, closed_port

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(django_settings.BASE_DIR)
LEASE_SECONDS = 8
# The delivery's hard limit in these workers (soft: 5 s); the lease must exceed it.
TASK_TIME_LIMIT = 7


def database_url_for_worker() -> str:
    """The URL of the database this test runs on (with pytest-xdist's suffix), for the worker."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


class Worker:
    def __init__(self, *, env: dict, queue: str, log: Path):
        self.env, self.queue, self.log = env, queue, log
        self.process = None

    def start(self, timeout: float = 90) -> "Worker":
        self.log.write_text("")
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", self.queue, "--pool=prefork",
             "--concurrency=1", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"{uuid.uuid4().hex[:8]}@%h", "--loglevel=INFO"],
            cwd=BASE_DIR, env=self.env, stdout=self.log.open("a"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log.read_text(errors="replace"):
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"worker did not start:\n{self.log.read_text(errors='replace')[-3000:]}")

    def idle(self) -> bool:
        """A killed worker is idle; a running one when every task its log shows received has ended."""
        if self.process is None or self.process.poll() is not None:
            return True
        log = self.log.read_text(errors="replace")
        ended = sum(log.count(word) for word in ("] succeeded in ", "] retry: ", "] raised ", "] failed"))
        return log.count("] received") == ended

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes, as an OOM killer or a power cut would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def workers(settings, tmp_path, private_queue):
    """Start workers on this test's queue; they are stopped at the end whatever happens."""
    email_dir, marker_dir = tmp_path / "emails", tmp_path / "markers"
    email_dir.mkdir()
    marker_dir.mkdir()
    settings.NOTIFICATIONS_SEND_LEASE_SECONDS = LEASE_SECONDS
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.notifications.worker_settings",
        "DATABASE_URL": database_url_for_worker(),
        "NOTIFICATIONS_QUEUE": private_queue.name,
        "NOTIFICATIONS_SEND_LEASE_SECONDS": str(LEASE_SECONDS),
        "NOTIFICATIONS_DELIVERY_TIME_LIMIT": str(TASK_TIME_LIMIT),
        # Shorter than the soft limit, as in production (notifications.E004).
        "EMAIL_TIMEOUT": "4", "SMS_GATEWAY_TIMEOUT": "4",
        "HOPLUC_TEST_EMAIL_DIR": str(email_dir),
        "HOPLUC_TEST_MARKER_DIR": str(marker_dir),
        "PYTHONPATH": str(BASE_DIR),
    }
    started: list[Worker] = []

    class Workers:
        emails, markers, queue = email_dir, marker_dir, private_queue.name
        # Drills that test no shutdown end their workers with SIGKILL rather than a warm shutdown.
        kill_at_end = False

        def start(self, **extra_env) -> Worker:
            worker = Worker(env={**env, **extra_env}, queue=private_queue.name,
                            log=tmp_path / f"worker-{len(started)}.log")
            started.append(worker)
            return worker.start()

        def email_count(self) -> int:
            return sum(path.read_text(errors="replace").count("Message-ID:") for path in email_dir.iterdir())

        def settled(self, timeout: float = 30) -> bool:
            """Wait until nothing is left to do: the test's queue is empty and every task a running
            worker received has ended. What the workers did is then final and may be counted."""
            return wait_for(lambda: private_queue.size() == 0 and all(w.idle() for w in started), timeout=timeout)

    handle = Workers()
    yield handle
    for worker in started:
        if handle.kill_at_end and worker.process.poll() is None:
            worker.kill()
        else:
            worker.stop()


def wait_for(predicate, *, timeout: float, interval: float = 0.25, action=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if action is not None:
            action()
        if predicate():
            return True
        time.sleep(interval)
    return False


def tell_by_email(world, event_key="handoff:12:sent"):
    user = world.receiving_responder
    user.email = "receiving_responder@hopluc.invalid"
    user.save(update_fields=["email"])
    notify(recipients=[user], kind=NotificationKind.HANDOFF_RECEIVED, case_number="HN-2026-000123",
           link="/cases/7/handoffs/12/", event_key=event_key)
    return OutboxMessage.objects.get(event_key=event_key, channel="email")


def status_of(message) -> str:
    message.refresh_from_db()
    return message.status


def test_the_happy_path_delivers_once(world, workers):
    workers.start()
    message = tell_by_email(world)
    assert wait_for(lambda: status_of(message) == "sent", timeout=30)
    assert workers.email_count() == 1
    assert message.attempts == 1


def test_worker_killed_while_delivering_sends_once_after_restart(world, workers):
    first = workers.start(HOPLUC_TEST_EMAIL_BACKEND="tests.notifications.slow_email.SlowFileEmailBackend",
                          HOPLUC_TEST_EMAIL_DELAY="4")
    message = tell_by_email(world)
    assert wait_for(lambda: any(workers.markers.iterdir()), timeout=30), "delivery never started"
    first.kill()
    assert workers.email_count() == 0
    assert status_of(message) == "sending"

    workers.start()
    # The dead worker's lease runs out; the relay sweep (beat, every minute) hands the row on.
    assert wait_for(lambda: status_of(message) == "sent", timeout=LEASE_SECONDS + 30, interval=0.5,
                    action=outbox_relay_sweep)
    assert workers.settled()
    outbox_relay_sweep(now=timezone.now() + datetime.timedelta(hours=1))
    assert workers.settled()
    assert workers.email_count() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs Redis: the filesystem broker has no server to lose")
def test_broker_down_at_commit_delivers_once_when_it_is_back(world, workers, caplog):
    from config.celery import app

    workers.start()
    with broker_pointing_at(app, f"redis://127.0.0.1:{closed_port()}/0"):
        message = tell_by_email(world)
    assert "not enqueued" in caplog.text
    assert workers.settled()
    assert status_of(message) == "queued"
    assert workers.email_count() == 0

    # Broker back: the next relay sweep after the grace period enqueues it.
    later = timezone.now() + datetime.timedelta(seconds=django_settings.NOTIFICATIONS_RELAY_GRACE_SECONDS + 1)
    assert outbox_relay_sweep(now=later) == 1
    assert wait_for(lambda: status_of(message) == "sent", timeout=30)
    assert outbox_relay_sweep(now=later + datetime.timedelta(hours=1)) == 0
    assert workers.settled()
    assert workers.email_count() == 1


def missed_deadlines(world, count: int):
    start = timezone.now() - datetime.timedelta(days=3)
    return [
        deadline_create(
            kind=Deadline.Kind.FOLLOW_UP, subject=f"action:{n}", owner_agency=world.health,
            escalate_agency=world.police, start=start, due_at=start + datetime.timedelta(hours=2),
            case_number=f"HN-2026-{n:06d}", link="/cases/7/",
        )
        for n in range(count)
    ]


def assert_each_stage_once(world, deadlines):
    for deadline in deadlines:
        keys = {f"deadline:{deadline.pk}:{stage}" for stage in ("reminded", "overdue", "escalated")}
        rows = list(Notification.objects.filter(event_key__in=keys).values_list("event_key", "recipient__username"))
        assert sorted(rows) == sorted([
            (f"deadline:{deadline.pk}:reminded", "receiving_responder"),
            (f"deadline:{deadline.pk}:overdue", "receiving_supervisor"),
            (f"deadline:{deadline.pk}:escalated", "lead_supervisor"),
        ])
        deadline.refresh_from_db()
        assert deadline.stage == "escalated"


def test_two_sweeps_at_the_same_moment_fire_each_stage_once(world):
    """Two threads, each with its own database connection, sweep the same missed deadlines."""
    deadlines = missed_deadlines(world, 20)
    now = timezone.now()
    barrier = threading.Barrier(2)
    fired, errors = [], []

    def sweep():
        try:
            barrier.wait(timeout=10)
            fired.append(deadline_sweep(now=now))
        except Exception as exc:  # surfaced below, with the thread's own traceback lost otherwise
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sum(fired) == 3 * len(deadlines), fired
    assert_each_stage_once(world, deadlines)


def test_two_workers_sweeping_after_downtime_fire_every_missed_stage_once(world, workers):
    deadlines = missed_deadlines(world, 10)
    workers.start()
    workers.start()
    # The sweep keeps no result in production; these copies ask for one, to count what each fired.
    results = [sweep_deadlines.apply_async(queue=workers.queue, ignore_result=False) for _ in range(2)]
    try:
        fired = [result.get(timeout=60) for result in results]
        assert sum(fired) == 3 * len(deadlines), fired
        assert_each_stage_once(world, deadlines)
        results.append(sweep_deadlines.apply_async(queue=workers.queue, ignore_result=False))
        assert results[-1].get(timeout=60) == 0
    finally:
        for result in results:
            result.forget()


def test_a_backlog_larger_than_a_chunk_is_shared_out_to_chunk_tasks_and_fired_once(world, workers):
    """With chunks of 3, the minute's task sweeps 3 deadlines and starts chunk tasks for the other 8,
    which the two workers take side by side: every missed stage of the 11 fires once."""
    deadlines = missed_deadlines(world, 11)
    workers.start(DEADLINE_SWEEP_CHUNK="3", DEADLINE_SWEEP_BATCH="2")
    workers.start(DEADLINE_SWEEP_CHUNK="3", DEADLINE_SWEEP_BATCH="2")
    result = sweep_deadlines.apply_async(queue=workers.queue, ignore_result=False)
    try:
        # The head task fires its own chunk's stages only: 3 deadlines x 3 stages at most.
        assert 0 < result.get(timeout=60) <= 9
    finally:
        result.forget()
    assert wait_for(lambda: not Deadline.objects.exclude(stage="escalated").exists(), timeout=60)
    assert workers.settled()
    assert_each_stage_once(world, deadlines)
