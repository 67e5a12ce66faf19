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


def test_the_embedded_broker_never_shows_a_consumer_a_message_being_written(tmp_path, monkeypatch):
    """kombu's filesystem transport creates the message file and then writes it; a consumer polling in
    between took the empty file and the message was lost (3 % of messages with a busy machine). The
    embedded broker's (config/filesystem_broker.py) writes it under another name first."""
    import importlib
    from queue import Empty

    from kombu import Connection

    folders = {key: str(tmp_path / "queue") for key in ("data_folder_in", "data_folder_out")}
    options = {**folders, "control_folder": str(tmp_path / "control"), "processed_folder": str(tmp_path / "done"),
               "store_processed": False}
    for folder in set(options.values()) - {False}:
        os.makedirs(folder, exist_ok=True)
    # filesystem:// as the embedded settings name it: config.celery (loaded with Django) points kombu's
    # name at config/filesystem_broker.py's transport.
    with Connection("filesystem://localhost/", transport_options=options) as producer, \
            Connection("filesystem://localhost/", transport_options=options) as consumer:
        channel = producer.default_channel
        module = importlib.import_module(type(channel).__module__)
        real_dumps, seen_while_writing = module.dumps, []

        def dumps_and_poll(payload):
            # Called after the file is opened and before it is written: a consumer polls now.
            try:
                seen_while_writing.append(consumer.default_channel._get("q"))
            except Empty:
                pass
            except Exception as exc:  # kombu's: an empty file read as a message
                seen_while_writing.append(exc)
            return real_dumps(payload)

        monkeypatch.setattr(module, "dumps", dumps_and_poll)
        channel._put("q", {"body": TEXT})
        monkeypatch.setattr(module, "dumps", real_dumps)
        assert seen_while_writing == []
        assert consumer.default_channel._get("q") == {"body": TEXT}
        assert os.listdir(options["data_folder_in"]) == []
