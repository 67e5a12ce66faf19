import contextlib
import datetime
import socket
import uuid

import pytest
from django.core.management import call_command
from faker import Faker
from kombu import pools as kombu_pools

from notifications.calendar import VIETNAM
from notifications.loaders import time_limit_load_reference
from notifications.models import ProvinceCoordinator, UserContact
from tests.conftest import make_user


def vn(*args) -> datetime.datetime:
    """A moment on Viet Nam's clock."""
    return datetime.datetime(*args, tzinfo=VIETNAM)


@pytest.fixture
def time_limits(db):
    # Loaded again because transactional tests flush the rows the data migration wrote.
    time_limit_load_reference()


@pytest.fixture
def calendar(db):
    call_command("load_holidays", "--years", "2025-2028", verbosity=0)


@pytest.fixture
def coordinator(world):
    user = make_user("hanoi_coordinator", email="coordinator@hopluc.invalid")
    ProvinceCoordinator.objects.create(user=user, province=world.hanoi)
    return user


@pytest.fixture
def reachable(world):
    """Give every staff member of `world` an email address and a phone number (synthetic, vi_VN)."""
    fake = Faker("vi_VN")
    fake.seed_instance(4)
    for name in ("lead_responder", "lead_supervisor", "receiving_responder", "receiving_supervisor",
                 "outsider_responder", "outsider_supervisor"):
        user = getattr(world, name)
        user.email = f"{name}@hopluc.invalid"
        user.save(update_fields=["email"])
        UserContact.objects.create(user=user, phone="+8491" + str(fake.random_number(digits=7, fix_len=True)))
    return world


class BrokerQueue:
    """A Celery queue of the real broker that only this test uses, to see what was enqueued."""

    def __init__(self, app, name: str):
        self.app, self.name = app, name

    def drain(self, *, wait: float = 1.0) -> list[tuple[str, list]]:
        """(task name, args) of every message waiting in the queue, taken off it."""
        from queue import Empty

        taken = []
        with self.app.connection_for_read() as connection:
            queue = connection.SimpleQueue(self.name)
            try:
                while True:
                    try:
                        message = queue.get(block=True, timeout=wait)
                    except Empty:
                        return taken
                    message.ack()
                    taken.append((message.headers["task"], message.payload[0]))
            finally:
                queue.close()

    def size(self) -> int:
        """How many messages wait in the queue (0 when it was never declared)."""
        with self.app.connection_for_read() as connection:
            try:
                return connection.default_channel.queue_declare(self.name, passive=True).message_count
            except Exception:
                return 0

    def delete(self) -> None:
        # Declaring binds the queue on this channel, which lets delete() remove Redis's binding keys
        # too. Best effort: the name is unique and nobody consumes it.
        with self.app.connection_for_write() as connection, contextlib.suppress(Exception):
            bound = self.app.amqp.queues[self.name].bind(connection.default_channel)
            bound.declare()
            bound.delete()


@pytest.fixture
def private_queue(settings):
    from config.celery import app

    queue = BrokerQueue(app, f"hl-test-{uuid.uuid4().hex[:12]}")
    settings.NOTIFICATIONS_QUEUE = queue.name
    yield queue
    queue.delete()


def closed_port() -> int:
    """A local TCP port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class broker_pointing_at:  # noqa: N801 - used as a context manager
    """Point the Celery app of this process at another broker URL, and back."""

    def __init__(self, app, url):
        self.app, self.url = app, url

    def _reset(self):
        # Celery's producer pool sits on kombu's global connection pools: drop all of them, so the
        # next publish connects to whatever broker_url says then.
        self.app.amqp._producer_pool = None
        if self.app._pool is not None:
            self.app._pool.force_close_all()
            self.app._pool = None
        kombu_pools.reset()

    def __enter__(self):
        self.saved = (self.app.conf.broker_url, self.app.conf.broker_transport_options)
        self._reset()
        self.app.conf.broker_url = self.url
        self.app.conf.broker_transport_options = {"socket_connect_timeout": 2}
        return self

    def __exit__(self, *exc):
        self._reset()
        self.app.conf.broker_url, self.app.conf.broker_transport_options = self.saved
        return False
