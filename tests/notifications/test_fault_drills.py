"""Fault drills: real worker processes, real servers on loopback, real faults; after each, every notice
arrives within its bound of recovery, and a duplicate appears only at the SMTP acknowledgement
boundary, with the Message-ID of the first copy.

The drills run at scaled-down settings (lease 8 s, sweep every second, SMTP/SMS backoff capped at
2-3 s), so that each takes seconds: they show the mechanism (a dead worker's row is handed on after
its lease, a row the web could not enqueue waits only for the next sweep, a database error is
retried in seconds, the backoff is capped). The production values are held to two minutes by
test_reliability.py (`lateness_bounds()`, and the retry schedule after outages of every length).

Brokers and databases that are killed are private instances (fault_servers.py); the shared
PostgreSQL and Redis of the machine are never stopped.
"""

import contextlib
import time
from collections import Counter

import pytest
from django.conf import settings as django_settings
from django.db import connection
from rest_framework.test import APIClient

from notifications.delivery import email_message_id, lateness_bounds, outbox_relay_sweep
from notifications.models import NotificationKind, OutboxMessage
from notifications.services import notify

from .conftest import broker_pointing_at
from .fault_servers import FakeSmsGateway, PrivatePostgres, PrivateRedis, SmtpSink, postgres_bin, wait_until
from .test_worker_faults import workers  # noqa: F401 - the fixture

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# What a machine with two cores shared by other test runs may add to a bound (process scheduling,
# a worker picking up its retry): slack, not a different mechanism.
MARGIN_SECONDS = 6
SWEEP_SECONDS = 1


def smtp_env(sink: SmtpSink, **extra) -> dict:
    return {"HOPLUC_TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(sink.port), **extra}


def tell(users, *, kind=NotificationKind.HANDOFF_RECEIVED, event_key="handoff:12:sent"):
    notify(recipients=users, kind=kind, case_number="HN-2026-000123", link="/cases/7/handoffs/12/",
           event_key=event_key)


def statuses(rows=None) -> Counter:
    qs = OutboxMessage.objects.all() if rows is None else OutboxMessage.objects.filter(pk__in=rows)
    return Counter(qs.values_list("status", flat=True))


def all_sent() -> bool:
    return set(statuses()) == {"sent"}


def sweeping(predicate, *, timeout: float, what: str):
    """Wait for `predicate`, running the relay sweep every SWEEP_SECONDS as beat would."""
    deadline, next_sweep = time.monotonic() + timeout, 0.0
    while time.monotonic() < deadline:
        if time.monotonic() >= next_sweep:
            outbox_relay_sweep()
            next_sweep = time.monotonic() + SWEEP_SECONDS
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}: {statuses()}")


@pytest.fixture(autouse=True)
def quick_teardown(workers):  # noqa: F811
    workers.kill_at_end = True


@pytest.fixture
def drill(settings):
    settings.NOTIFICATIONS_RELAY_SWEEP_SECONDS = SWEEP_SECONDS
    settings.NOTIFICATIONS_RELAY_GRACE_SECONDS = 2
    return lateness_bounds()


# --- A worker killed while holding a lease -----------------------------------------------------------


def test_drill_worker_killed_waiting_for_the_smtp_reply(reachable, workers, drill):  # noqa: F811
    world = reachable
    sink = SmtpSink().start()
    try:
        # The server stores the first message and holds its 250; the worker is killed waiting for it.
        sink.reply_delay = 30
        env = smtp_env(sink, EMAIL_TIMEOUT="4")
        first = workers.start(**env)
        tell([world.receiving_responder, world.receiving_supervisor, world.lead_supervisor])
        rows = list(OutboxMessage.objects.order_by("pk"))
        assert len(rows) == 3
        assert sink.data_seen.wait(timeout=30), "no delivery reached the SMTP server"
        first.kill()
        sink.reply_delay = 0
        [(_at, killed_id, _to)] = sink.received
        killed = next(row for row in rows if email_message_id(row) == killed_id)
        assert OutboxMessage.objects.get(pk=killed.pk).status == "sending"

        workers.start(**env)
        recovered = time.monotonic()
        sweeping(all_sent, timeout=drill["killed_worker"] + 30, what="every email sent after the restart")
        lateness = max(at for at, _id, _to in sink.received) - recovered
        print(f"drill killed worker: last email {lateness:.1f} s after the restart, bound {drill['killed_worker']} s")
        assert lateness <= drill["killed_worker"] + MARGIN_SECONDS, lateness

        ids = Counter(sink.message_ids())
        # Every row once, and the one killed at the acknowledgement boundary twice, with one Message-ID.
        assert ids == Counter({email_message_id(row): 1 for row in rows}) + Counter({killed_id: 1})
        assert OutboxMessage.objects.get(pk=killed.pk).attempts == 2
    finally:
        sink.stop()


# --- The broker down during a request ------------------------------------------------------------------


@contextlib.contextmanager
def celery_pointing_at(url: str):
    """Broker and result backend of this process's Celery app, as in production (one Redis for both)."""
    from config.celery import app

    saved_backend = app.conf.result_backend
    with broker_pointing_at(app, url):
        app.conf.result_backend = url
        app._backend_cache = None
        app._local.__dict__.pop("backend", None)
        try:
            yield app
        finally:
            app.conf.result_backend = saved_backend
            app._backend_cache = None
            app._local.__dict__.pop("backend", None)


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs Redis: the filesystem broker has no server to lose")
def test_drill_broker_killed_referrals_answer_201_at_once_and_notices_follow_its_return(
        reachable, workers, drill, tmp_path, time_limits):  # noqa: F811
    from tests.handoffs.conftest import consented_case
    from tests.handoffs.test_api import body

    world = reachable
    redis = PrivateRedis(tmp_path).start()
    try:
        with celery_pointing_at(redis.url):
            workers.start(REDIS_URL=redis.url)
            warm_up, *cases = [consented_case(world) for _ in range(4)]
            api = APIClient()
            api.force_login(world.lead_responder)
            # One referral while the broker is up, so that first-request imports are not timed below.
            assert api.post(f"/api/cases/{warm_up.pk}/handoffs/", body(world, urgency="emergency"),
                            format="json").status_code == 201
            wait_until(all_sent, timeout=30, what="the warm-up referral's notices")
            before = set(OutboxMessage.objects.values_list("pk", flat=True))
            redis.kill()
            for case in cases:
                started = time.monotonic()
                response = api.post(f"/api/cases/{case.pk}/handoffs/", body(world, urgency="emergency"), format="json")
                elapsed = time.monotonic() - started
                assert response.status_code == 201, response.content
                assert elapsed < 2, elapsed
                print(f"drill broker down: referral answered {response.status_code} in {elapsed:.2f} s")
            # Emergency: email and SMS to the receiving agency's responder and supervisor, per referral.
            during = OutboxMessage.objects.exclude(pk__in=before)
            assert Counter(during.values_list("status", flat=True)) == Counter({"queued": 12})
            time.sleep(2)  # the outage itself: the broker stays down a while, then comes back
            redis.start()
            recovered = time.monotonic()
            sweeping(all_sent, timeout=drill["broker_down"] + 30, what="every notice sent after the broker returned")
            lateness = time.monotonic() - recovered
        print(f"drill broker down: every notice sent {lateness:.1f} s after the broker returned")
        # The production bound (worker reconnect ≤ 30 s, then a sweep) with the drill's sweep interval.
        assert lateness <= drill["broker_down"] + MARGIN_SECONDS, lateness
        emails = Counter(email_message_id(row) for row in OutboxMessage.objects.filter(channel="email"))
        assert workers.email_count() == len(emails) == 8, "no duplicates"
    finally:
        redis.kill()


# --- The database restarted during delivery ----------------------------------------------------------------


@pytest.fixture
def private_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has no server to restart")
    if postgres_bin() is None:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql")
    cluster = PrivatePostgres().init()
    cluster.start()
    yield cluster
    cluster.destroy()


def private_rows(cluster: PrivatePostgres) -> list[tuple[int, str, int]]:
    import psycopg

    try:
        with psycopg.connect(cluster.url("hopluc"), connect_timeout=2) as conn:
            return conn.execute(
                "SELECT id, status, attempts FROM notifications_outboxmessage ORDER BY id"
            ).fetchall()
    except psycopg.OperationalError:
        return []


def test_drill_database_restarted_while_a_worker_delivers(reachable, workers, private_postgres):  # noqa: F811
    world = reachable
    tell([world.receiving_responder, world.receiving_supervisor, world.lead_supervisor, world.outsider_supervisor])
    # The worker works on a private copy of the test database, the one this drill restarts.
    private_postgres.copy_database(source=connection.settings_dict, name="hopluc")
    # The workers fixture's soft time limit is 5 s: the send (2 s) and the outage (4 s and pg_ctl's restart)
    # do not fit in it, so the send's record must give up before the limit and leave it to the task's retry.
    workers.start(DATABASE_URL=private_postgres.url("hopluc"),
                  HOPLUC_TEST_EMAIL_BACKEND="tests.notifications.slow_email.SlowFileEmailBackend",
                  HOPLUC_TEST_EMAIL_DELAY="2")
    wait_until(lambda: any(workers.markers.iterdir()), timeout=30, what="the first send to start")
    private_postgres.stop()  # every session terminated mid-delivery, new ones refused
    time.sleep(4)  # the outage itself: the database stays down while the worker retries
    private_postgres.start()
    recovered = time.monotonic()
    # No relay sweep runs here: the deliveries' own quick retries must carry every row.
    wait_until(lambda: {status for _id, status, _n in private_rows(private_postgres)} == {"sent"},
               timeout=60, interval=0.5, what="every row sent after the restart")
    lateness = time.monotonic() - recovered
    print(f"drill database restart: every row sent {lateness:.1f} s after the database returned")
    assert lateness <= lateness_bounds()["database_restart"] + MARGIN_SECONDS, lateness
    assert len(private_rows(private_postgres)) == 4
    # The send that was under way when the database went is recorded once it is back: no repeat.
    assert workers.email_count() == 4


# --- A long SMTP and SMS outage ---------------------------------------------------------------------------


def test_drill_long_smtp_and_sms_outage_next_attempt_within_the_cap(reachable, workers):  # noqa: F811
    world = reachable
    sink, gateway = SmtpSink(), FakeSmsGateway()
    gateway.down = True
    caps = {"urgent": 2, "other": 3}
    try:
        workers.start(**smtp_env(
            sink, EMAIL_TIMEOUT="2", SMS_BACKEND="notifications.sms.HttpGatewaySmsBackend",
            SMS_GATEWAY_URL=gateway.url, SMS_GATEWAY_TIMEOUT="2", NOTIFICATIONS_RETRY_BASE_SECONDS="1",
            NOTIFICATIONS_URGENT_RETRY_MAX_SECONDS=str(caps["urgent"]),
            NOTIFICATIONS_RETRY_MAX_SECONDS=str(caps["other"]),
        ))
        tell([world.receiving_responder, world.receiving_supervisor], kind=NotificationKind.HANDOFF_EMERGENCY)
        tell([world.lead_supervisor], kind=NotificationKind.HANDOFF_ACCEPTED, event_key="handoff:12:accepted")
        rows = {row.pk: row for row in OutboxMessage.objects.select_related("notification")}
        assert Counter(row.channel for row in rows.values()) == Counter({"email": 3, "sms": 2})
        # 18 s down: uncapped doubling from 1 s would try at 0, 1, 3, 7, 15, 31 s after the first attempt and so
        # come at least 13 s late; capped, at most 2 or 3 s.
        time.sleep(18)
        assert sink.received == [] and gateway.received == []
        assert min(OutboxMessage.objects.values_list("attempts", flat=True)) >= 4
        sink.start()
        gateway.down = False
        recovered = time.monotonic()
        # No relay sweep: each row's own retry (its broker message, at most the cap away) must carry it.
        try:
            wait_until(all_sent, timeout=30, interval=0.2, what="every notice sent after the outage")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {statuses()}") from None

        arrivals = {message_id: at for at, message_id, _to in sink.received}
        for row in rows.values():
            cap = caps["urgent"] if row.notification.kind == NotificationKind.HANDOFF_EMERGENCY else caps["other"]
            if row.channel == "email":
                at = arrivals[email_message_id(row)]
            else:
                [at] = [at for at, sms in gateway.received if sms["reference"] == f"#{row.pk}"]
            print(f"drill SMTP/SMS outage: {row.channel} {row.notification.kind} {at - recovered:.1f} s after")
            assert at - recovered <= cap + MARGIN_SECONDS, (row.channel, at - recovered)
        # Nothing twice, and each SMS carries its reference in its text.
        assert sorted(sink.message_ids()) == sorted(email_message_id(r) for r in rows.values() if r.channel == "email")
        assert sorted(sms["reference"] for _at, sms in gateway.received) == sorted(
            f"#{pk}" for pk, r in rows.items() if r.channel == "sms")
        assert all(sms["text"].endswith(sms["reference"]) for _at, sms in gateway.received)
    finally:
        sink.stop()
        gateway.close()
