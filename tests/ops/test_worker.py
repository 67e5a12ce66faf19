"""A task goes through a real broker to a real worker process and its result comes back."""

import os
import subprocess
import sys
import uuid

import pytest

from config.celery import app as celery_app
from config.tasks import echo

from .conftest import BASE_DIR, celery_worker, process_env, worker_log

pytestmark = pytest.mark.worker

REDIS_URL = os.environ.get("REDIS_URL", "")
TEXT = "Xin chào, Hợp Lực"


def unique_queue() -> str:
    return f"hopluc-test-{uuid.uuid4().hex}"


@pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL is not set: no Redis server to send the task through")
def test_task_sent_through_redis_runs_on_a_worker(tmp_path):
    queue = unique_queue()
    log = tmp_path / "worker.log"
    with celery_worker(queue=queue, env=process_env(tmp_path), log_path=log, pool="solo"):
        result = echo.apply_async(args=[TEXT], queue=queue)
        try:
            assert result.get(timeout=60) == TEXT, worker_log(log)
        finally:
            result.forget()
    assert f"Task config.tasks.echo[{result.id}] succeeded" in worker_log(log)
    # Declaring binds the queue on this channel, which is what lets delete() find and remove the
    # binding keys too; the queue itself is empty by now.
    with celery_app.connection_for_write() as conn:
        bound = celery_app.amqp.queues[queue].bind(conn.default_channel)
        bound.declare()
        bound.delete()


# The producer runs in its own process too, configured only by the environment, as web and
# beat are in the embedded default: the test process may be configured for Redis.
PRODUCER = """
import sys
import django
django.setup()
from django.conf import settings
from config.tasks import echo
assert settings.CELERY_BROKER_URL.startswith("filesystem://"), settings.CELERY_BROKER_URL
print(echo.apply_async(args=[sys.argv[2]], queue=sys.argv[1]).get(timeout=60))
"""


def test_task_sent_through_the_filesystem_broker_runs_on_a_prefork_worker(tmp_path):
    queue = unique_queue()
    log = tmp_path / "worker.log"
    env = process_env(tmp_path, REDIS_URL=None)
    with celery_worker(queue=queue, env=env, log_path=log, pool="prefork"):
        producer = subprocess.run(
            [sys.executable, "-c", PRODUCER, queue, TEXT],
            cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=90,
        )
        assert producer.returncode == 0, producer.stderr + worker_log(log)
        assert producer.stdout.strip() == TEXT
    assert "ForkPoolWorker" in worker_log(log)
    # Every broker folder is under the var dir, none in the current directory.
    broker = tmp_path / "broker"
    assert {p.name for p in broker.iterdir()} >= {"queue", "control", "results"}
    assert not list((broker / "queue").iterdir()), "the message was consumed"
    assert not (BASE_DIR / "control").exists()
