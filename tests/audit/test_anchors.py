"""Signed anchors: every way of cutting the trail short or forging its anchors makes verify_audit_chain
fail and say which. The attacker has the database owner's rights (tamper() lifts the triggers) and,
where said, write access to the anchor folder but not the anchor key."""

import json
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone, translation

from audit.chain import stored_event_hash
from audit.checkpoints import CHECKPOINT_FILE, anchor_signature
from audit.models import AuditEvent
from audit.services import audit_checkpoint_write, audit_record

from .conftest import chained, tamper, verify, verify_fails

pytestmark = pytest.mark.usefixtures("checkpoint_dir")


def anchor_lines(directory) -> list[dict]:
    return [json.loads(line) for line in (directory / CHECKPOINT_FILE).read_text().splitlines()]


def anchor_lines_write(directory, lines: list[dict]) -> None:
    (directory / CHECKPOINT_FILE).write_text("".join(json.dumps(line, sort_keys=True) + "\n" for line in lines))


def events(n: int, start: int = 1) -> list[AuditEvent]:
    return chained(*[
        audit_record(actor=None, action="view", case_id=i, target=f"case:{i}") for i in range(start, start + n)
    ])


def rehash_head_with(reason: str) -> None:
    """Edit the newest event and recompute its hash: every link still holds."""
    head = AuditEvent.objects.order_by("-position").first()
    head.reason = reason
    tamper("UPDATE audit_auditevent SET reason = %s, hash = %s WHERE position = %s",
           [reason, stored_event_hash(head), head.position])


def test_fresh_anchor_passes_and_is_described(db):
    events(3)
    audit_checkpoint_write()
    output = verify()
    assert "3 events" in output and "1 of 1 checkpoints matched" in output
    assert "Newest signed anchor: number 1, seq 3" in output and "events after it: 0" in output


def test_events_without_any_anchor_fail(db):
    events(2)
    message = verify_fails()
    assert "no signed anchor" in message and "Audit chain broken" not in message


def test_a_rewritten_chain_with_no_anchors_fails(db):
    events(3)
    # Everything rewritten from the start, hashes recomputed: the links alone cannot tell.
    rehash_head_with("rewritten")
    assert all(stored_event_hash(e) == e.hash for e in AuditEvent.objects.all())
    assert "no signed anchor" in verify_fails()


def test_events_deleted_back_to_the_last_daily_anchor_are_caught_by_a_newer_anchor(db):
    events(3)
    audit_checkpoint_write()  # yesterday's "daily" checkpoint
    events(4, start=4)
    audit_checkpoint_write()  # the five-minute anchor
    tamper("DELETE FROM audit_auditevent WHERE position > 3")
    message = verify_fails()
    assert "seq 7:" in message and "ends at seq 3" in message and "removed from the end" in message


def test_events_deleted_with_the_newest_anchors_are_caught_by_age(db, checkpoint_dir):
    with time_machine.travel(timezone.now() - timedelta(hours=1), tick=True):
        events(3)
        audit_checkpoint_write()
    events(4, start=4)
    audit_checkpoint_write()
    # The attacker also holds the folder: drops the newest anchor and the events after the old one.
    anchor_lines_write(checkpoint_dir, anchor_lines(checkpoint_dir)[:1])
    tamper("DELETE FROM audit_auditevent WHERE position > 3")
    message = verify_fails()
    assert "newest anchor" in message and "more than 15 minutes ago" in message
    assert "Audit chain broken" not in message


def test_an_old_anchor_fails_and_max_age_is_configurable(db, settings):
    with time_machine.travel(timezone.now() - timedelta(minutes=20), tick=True):
        events(2)
        audit_checkpoint_write()
    assert "more than 15 minutes ago" in verify_fails()
    assert "more than 10 minutes ago" in verify_fails("--max-age", "600")
    assert "2 events" in verify("--max-age", "3600")
    assert "was not checked" in verify("--max-age", "0")
    settings.AUDIT_ANCHOR_MAX_AGE_SECONDS = 7200
    assert "2 events" in verify()


def test_a_rehashed_head_is_caught(db):
    events(4)
    audit_checkpoint_write()
    rehash_head_with("edited afterwards")
    message = verify_fails()
    assert "seq 4:" in message and "differs from the checkpoint" in message


def test_a_forged_anchor_is_caught_by_its_signature(db, checkpoint_dir):
    events(4)
    audit_checkpoint_write()
    # Cut the chain to seq 2 and make the anchor agree, without the key.
    head = AuditEvent.objects.get(position=2)
    tamper("DELETE FROM audit_auditevent WHERE position > 2")
    lines = anchor_lines(checkpoint_dir)
    lines[0].update(seq=head.position, hash=head.hash)
    anchor_lines_write(checkpoint_dir, lines)
    message = verify_fails()
    assert "signature" in message and f"{CHECKPOINT_FILE}:1" in message and "forged or altered" in message


def test_an_anchor_signed_with_another_key_is_refused(db, checkpoint_dir):
    events(2)
    audit_checkpoint_write()
    lines = anchor_lines(checkpoint_dir)
    lines[0]["sig"] = anchor_signature(lines[0], key=b"the attacker's own key, not ours")
    anchor_lines_write(checkpoint_dir, lines)
    assert "signature" in verify_fails()


def test_rotated_keys_still_verify_old_anchors(db, settings):
    events(2)
    settings.AUDIT_ANCHOR_KEYS = ["old-key-" + "x" * 32]
    audit_checkpoint_write()
    settings.AUDIT_ANCHOR_KEYS = ["new-key-" + "y" * 32, "old-key-" + "x" * 32]
    events(1, start=3)
    audit_checkpoint_write()
    assert "Newest signed anchor: number 2, seq 3" in verify()
    settings.AUDIT_ANCHOR_KEYS = ["new-key-" + "y" * 32]
    assert "signature" in verify_fails()


def test_an_anchor_removed_from_the_middle_is_caught(db, checkpoint_dir):
    for start in (1, 3, 5):
        events(2, start=start)
        audit_checkpoint_write()
    lines = anchor_lines(checkpoint_dir)
    anchor_lines_write(checkpoint_dir, [lines[0], lines[2]])
    message = verify_fails()
    assert "anchors 2 to 2 are missing" in message


def test_an_anchor_of_a_cut_chain_after_a_longer_one_is_caught(db, checkpoint_dir):
    events(5)
    audit_checkpoint_write()
    tamper("DELETE FROM audit_auditevent WHERE position > 3")
    audit_checkpoint_write()  # beat anchors the cut chain before anyone looks
    message = verify_fails()
    assert "names seq 3, below seq 5" in message and "cut between them" in message


def test_all_events_deleted_with_anchors_left_fails(db):
    events(2)
    audit_checkpoint_write()
    tamper("DELETE FROM audit_auditevent")
    assert "ends at seq 0" in verify_fails()


def test_unsigned_legacy_lines_are_checked_but_do_not_count_as_anchors(db, checkpoint_dir):
    [*_, head] = events(2)
    checkpoint_dir.mkdir(parents=True)
    (checkpoint_dir / CHECKPOINT_FILE).write_text(json.dumps({"seq": 2, "hash": head.hash, "at": "2026-01-01"}) + "\n")
    assert "no signed anchor" in verify_fails()
    audit_checkpoint_write()
    assert "2 of 2 checkpoints matched" in verify()
    assert anchor_lines(checkpoint_dir)[1]["n"] == 1


def test_anchor_command_writes_one(db, checkpoint_dir):
    out = StringIO()
    with translation.override("en"):
        call_command("anchor_audit_chain", stdout=out)
        assert "nothing to anchor" in out.getvalue()
        events(1)
        call_command("anchor_audit_chain", stdout=out)
    assert "Anchor 1 written: seq 1" in out.getvalue()
    assert anchor_lines(checkpoint_dir)[0]["why"] == "command"


def test_bad_max_age_is_an_error(db):
    assert "--max-age" in verify_fails("--max-age", "-1")


def test_concurrent_anchor_writers_keep_one_numbering(db, checkpoint_dir):
    """Beat, a worker publishing a report and the command may anchor at the same moment: the file lock
    keeps the numbers and the chain of signatures whole."""
    import threading

    events(1)
    head = AuditEvent.objects.get()
    from audit.checkpoints import checkpoint_append

    start = threading.Barrier(6)

    def writer():
        start.wait()
        for _ in range(10):
            checkpoint_append(seq=head.position, hash=head.hash, at=timezone.now(), why="schedule")

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(line["n"] for line in anchor_lines(checkpoint_dir)) == list(range(1, 61))
    assert "Newest signed anchor: number 60" in verify()
