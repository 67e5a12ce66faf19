"""verify_audit_chain against a tampered table. The triggers are lifted inside each test's transaction
(see conftest.triggers_off), the way an administrator with owner rights could."""

import json

import pytest
from django.db import connection

from audit.chain import event_hash, stored_event_hash
from audit.checkpoints import CHECKPOINT_FILE
from audit.models import AuditEvent
from audit.services import audit_checkpoint_write, audit_record

from .conftest import chained, tamper, triggers_off, verify, verify_fails

pytestmark = pytest.mark.usefixtures("checkpoint_dir")


def test_intact_chain_passes_with_a_summary(five_events):
    audit_checkpoint_write()
    output = verify("--chunk-size", "2")
    assert "5 events, seq 1 to 5" in output
    assert five_events[-1].hash in output
    assert "1 of 1 checkpoints matched" in output


def test_empty_chain_passes(db):
    assert "empty" in verify()


def test_altered_event_is_named(five_events):
    assert tamper("UPDATE audit_auditevent SET reason = %s WHERE position = 3", ["covered up"]) == 1
    message = verify_fails()
    assert "seq 3:" in message and "altered" in message
    assert "2 events before it are intact" in message


def test_deleted_event_is_named(five_events):
    assert tamper("DELETE FROM audit_auditevent WHERE position = 3") == 1
    message = verify_fails()
    assert "seq 4:" in message and "removed" in message


def test_reordered_events_are_named(five_events):
    # Swap the positions of events 3 and 4 (through a free seq: the key is unique).
    tamper("UPDATE audit_auditevent SET position = 1000 WHERE position = 3")
    tamper("UPDATE audit_auditevent SET position = 3 WHERE position = 4")
    tamper("UPDATE audit_auditevent SET position = 4 WHERE position = 1000")
    message = verify_fails()
    assert "seq 3:" in message and "reordered" in message


def test_swapped_content_is_named(five_events):
    # The same reordering done by swapping everything but the position column.
    rows = {e.position: e for e in AuditEvent.objects.filter(position__in=[2, 3])}
    for seq, other in ((2, rows[3]), (3, rows[2])):
        tamper(
            "UPDATE audit_auditevent SET case_id = %s, target = %s, prev_hash = %s, hash = %s WHERE position = %s",
            [other.case_id, other.target, other.prev_hash, other.hash, seq],
        )
    assert "seq 2:" in verify_fails()


def _rewrite_from(seq: int, reason: str) -> None:
    """A consistent rewrite: change one event and recompute every hash after it."""
    events = list(AuditEvent.objects.filter(position__gte=seq).order_by("position"))
    prev_hash = AuditEvent.objects.get(position=seq - 1).hash
    with triggers_off(), connection.cursor() as cursor:
        for event in events:
            if event.position == seq:
                event.reason = reason
            values = {name: getattr(event, name) for name in (
                "seq", "at", "actor_id", "actor_username", "agency_id", "action", "case_id", "categories",
                "target", "ip", "request_id", "reason", "details",
            )}
            digest = event_hash(values=values, prev_hash=prev_hash)
            cursor.execute(
                "UPDATE audit_auditevent SET reason = %s, prev_hash = %s, hash = %s WHERE position = %s",
                [event.reason, prev_hash, digest, event.position],
            )
            prev_hash = digest


def test_a_whole_rewrite_is_caught_by_the_checkpoint_only(five_events):
    audit_checkpoint_write()
    chained(*[audit_record(actor=None, action="view", case_id=10 + n) for n in range(2)])
    _rewrite_from(2, "rewritten with fresh hashes")
    assert all(stored_event_hash(e) == e.hash for e in AuditEvent.objects.all())

    # Without its anchors the rewrite passes every link and hash: only the missing anchors are left to say so.
    without = verify_fails("--checkpoint-dir", "/nonexistent-checkpoints")
    assert "no signed anchor" in without and "Audit chain broken" not in without
    message = verify_fails()
    assert "seq 5:" in message and "checkpoint" in message and CHECKPOINT_FILE in message


def test_events_cut_from_the_end_are_caught_by_the_checkpoint(five_events):
    audit_checkpoint_write()
    tamper("DELETE FROM audit_auditevent WHERE position >= 4")
    assert "no signed anchor" in verify_fails("--checkpoint-dir", "/nonexistent-checkpoints")
    message = verify_fails()
    assert "seq 5:" in message and "ends at seq 3" in message


def test_unreadable_checkpoint_file_fails(five_events, checkpoint_dir):
    checkpoint_dir.mkdir(parents=True)
    (checkpoint_dir / CHECKPOINT_FILE).write_text(json.dumps({"seq": "five"}) + "\n")
    assert "Unreadable checkpoint file" in verify_fails()


def test_bad_chunk_size_is_an_error(db):
    assert "--chunk-size" in verify_fails("--chunk-size", "0")
