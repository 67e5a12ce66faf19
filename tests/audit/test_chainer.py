"""Events are inserted unchained and chained after commit (README, "Audit write throughput")."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone, translation

from audit.chain import GENESIS_HASH, stored_event_hash
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import CHAIN_LOCK_KEY, audit_chain_pending, audit_checkpoint_write, audit_record

from .conftest import verify

postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="SQLite chains at insert, under its single write lock",
)


pytestmark = pytest.mark.usefixtures("checkpoint_dir")


def unchained(**overrides) -> AuditEvent:
    """An event as audit_record leaves it on PostgreSQL, before the chainer."""
    return AuditEvent.objects.create(**{"at": timezone.now(), "action": "view", **overrides})


def test_the_chainer_fills_the_chain_fields_once_in_insert_order(db):
    first, second = unchained(case_id=1), unchained(case_id=2)
    assert first.position is first.hash is first.prev_hash is None
    assert audit_chain_pending() == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.position, first.prev_hash, second.position, second.prev_hash) == (1, GENESIS_HASH, 2, first.hash)
    assert stored_event_hash(first) == first.hash and stored_event_hash(second) == second.hash
    assert audit_chain_pending() == 0
    assert audit_chain_verify().events == 2


def test_the_trigger_allows_only_the_one_time_fill_of_the_chain_fields(db):
    event = unchained()
    fill = {"position": 1, "prev_hash": GENESIS_HASH, "hash": "a" * 64}
    # Content changed together with the fill: refused.
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(seq=event.seq).update(reason="slipped in", **fill)
    # Only part of the chain fields: refused.
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(seq=event.seq).update(position=1)
    # Content of an unchained event: refused too.
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(seq=event.seq).update(target="case:99")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(seq=event.seq).delete()
    assert AuditEvent.objects.filter(seq=event.seq).update(**fill) == 1
    # Once filled, never again.
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(seq=event.seq).update(position=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(seq=event.seq).update(hash="b" * 64)
    assert AuditEvent.objects.values_list("position", "hash", "reason").get() == (1, "a" * 64, "")


def test_anchors_and_verification_chain_what_is_waiting_first(db):
    audit_chain_pending()
    unchained(case_id=5)
    anchor = audit_checkpoint_write()
    head = AuditEvent.objects.get(case_id=5)
    assert (anchor["seq"], anchor["hash"]) == (head.position, head.hash) and head.hash
    unchained(case_id=6)
    audit_checkpoint_write()
    assert "2 events" in verify()
    assert not AuditEvent.objects.filter(position__isnull=True).exists()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_events_left_unchained_fail_verification_when_old(settings):
    """Something holds the chain lock (a chainer stuck, or someone keeping events out of the chain):
    recent events waiting are reported, old ones fail verification."""
    audit_record(actor=None, action="view")
    audit_checkpoint_write()
    held, release = threading.Event(), threading.Event()

    def holder():
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [CHAIN_LOCK_KEY])
                held.set()
                release.wait(30)
                cursor.execute("SELECT pg_advisory_unlock(%s)", [CHAIN_LOCK_KEY])
        finally:
            connections.close_all()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(30)
        unchained(case_id=7)
        assert "1 audit events from the last 60 seconds wait to be chained" in verify()
        unchained(case_id=8, at=timezone.now() - timedelta(seconds=settings.AUDIT_UNCHAINED_MAX_AGE_SECONDS + 5))
        with pytest.raises(CommandError) as excinfo, translation.override("en"):
            call_command("verify_audit_chain", stdout=StringIO())
        assert "2 audit events are not chained yet" in str(excinfo.value)
        assert "the chainer is not running or is blocked" in str(excinfo.value)
    finally:
        release.set()
        thread.join()
    assert "3 events" in verify()


def chain_elsewhere():
    """The chainer as a worker runs it: on a connection of its own."""
    try:
        audit_chain_pending()
    finally:
        connections.close_all()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_an_event_is_chained_when_its_transaction_commits_in_commit_order():
    """An event committed after a later-inserted one takes its place in the chain after it: the chain
    follows commit order, and skips none."""
    later_committed = {}
    with transaction.atomic():
        early = audit_record(actor=None, action="change", case_id=1)
        assert early.position is None

        def other_request():
            try:
                later_committed["event"] = audit_record(actor=None, action="view", case_id=2)
            finally:
                connections.close_all()

        thread = threading.Thread(target=other_request)
        thread.start()
        thread.join(30)
        # The other request committed; the chainer (a worker's chain-now task, on its own connection)
        # chains its event, which does not wait for this one.
        worker = threading.Thread(target=chain_elsewhere)
        worker.start()
        worker.join(30)
        other = AuditEvent.objects.get(seq=later_committed["event"].seq)
        assert other.position == 1 and other.seq > early.seq
    audit_chain_pending()
    early.refresh_from_db()
    assert early.position == 2 and early.prev_hash == other.hash
    report = audit_chain_verify()
    assert report.intact and report.events == 2


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_event_leaves_no_gap_in_the_chain():
    audit_record(actor=None, action="view")
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=None, action="change")
        raise RuntimeError("the change failed")
    audit_record(actor=None, action="view")
    audit_chain_pending()
    assert list(AuditEvent.objects.order_by("position").values_list("position", "action")) == [
        (1, "view"), (2, "view"),
    ]
    assert audit_chain_verify().intact
    assert connection.vendor == "postgresql"
