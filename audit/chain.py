"""The hash chain: how an event's hash is computed, and how the stored chain is checked.

Each event's hash is SHA-256 over a canonical JSON of its content and the previous event's hash, so
altering, removing or reordering a stored event breaks the link at that point. Rewriting every hash
from some event onwards keeps the chain self-consistent; the checkpoints written signed anchors
written outside the database (audit/checkpoints.py, audit/anchors.py) are what catch that.
"""

import hashlib
import ipaddress
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from .models import AuditEvent

GENESIS_HASH = "0" * 64

# Fields that go into the hash, besides prev_hash. Adding one changes every hash: do it only with a
# versioned hash format.
HASHED_FIELDS = (
    "seq", "at", "actor_id", "actor_username", "agency_id", "action", "case_id", "categories", "target",
    "ip", "request_id", "reason", "details",
)


def _canonical_at(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _canonical_ip(value) -> str | None:
    # PostgreSQL's inet type renders addresses in its own way (e.g. IPv6 case); hash the parsed form.
    return None if value in (None, "") else str(ipaddress.ip_address(str(value)))


def canonical_content(*, values: dict, prev_hash: str) -> bytes:
    content = {name: values[name] for name in HASHED_FIELDS}
    content["at"] = _canonical_at(content["at"])
    content["ip"] = _canonical_ip(content["ip"])
    content["prev_hash"] = prev_hash
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def event_hash(*, values: dict, prev_hash: str) -> str:
    return hashlib.sha256(canonical_content(values=values, prev_hash=prev_hash)).hexdigest()


def stored_event_hash(event: AuditEvent) -> str:
    values = {name: getattr(event, name) for name in HASHED_FIELDS}
    return event_hash(values=values, prev_hash=event.prev_hash)


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    source: str  # where it was read from, for the error message
    # A signed anchor's fields (audit/checkpoints.py), or None for an unsigned legacy line.
    anchor: dict | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


@dataclass
class ChainReport:
    events: int = 0
    first_seq: int | None = None
    head_seq: int | None = None
    head_hash: str | None = None
    checkpoints_checked: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.breaks


def chain_walk(events: Iterable[AuditEvent], *, checkpoints: Iterable[Checkpoint] = ()) -> ChainReport:
    """Check events given in seq order; stop at the first break. Memory stays constant in the
    number of events (only checkpoints are held, and there is one a day)."""
    by_seq: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        by_seq.setdefault(checkpoint.seq, []).append(checkpoint)
    report = ChainReport()
    expected_seq, expected_prev = 1, GENESIS_HASH
    for event in events:
        problem = _event_problem(event, expected_seq=expected_seq, expected_prev=expected_prev)
        if problem is None:
            for checkpoint in by_seq.pop(event.position, ()):
                report.checkpoints_checked += 1
                if checkpoint.hash != event.hash:
                    problem = _(
                        "its hash differs from the checkpoint in %(source)s: the chain was rewritten from here "
                        "or earlier"
                    ) % {"source": checkpoint.source}
                    break
        if problem is not None:
            report.breaks.append(ChainBreak(seq=event.position, reason=problem))
            return report
        report.events += 1
        report.first_seq = report.first_seq or event.position
        report.head_seq, report.head_hash = event.position, event.hash
        expected_seq, expected_prev = event.position + 1, event.hash
    # Checkpoints beyond the head name events that were there once: the end of the chain was cut off.
    for seq in sorted(by_seq):
        checkpoint = by_seq[seq][0]
        report.breaks.append(ChainBreak(seq=seq, reason=_(
            "the checkpoint in %(source)s names this event, but the chain ends at seq %(head)s: events were removed "
            "from the end"
        ) % {"source": checkpoint.source, "head": report.head_seq or 0}))
        break
    return report


def _event_problem(event: AuditEvent, *, expected_seq: int, expected_prev: str) -> str | None:
    if event.position != expected_seq:
        return _("expected seq %(expected)s next: events %(expected)s to %(last)s are missing (removed)") % {
            "expected": expected_seq, "last": event.position - 1,
        }
    if event.prev_hash != expected_prev:
        return _("its prev_hash does not match the hash of the event before it (events removed or reordered)")
    if stored_event_hash(event) != event.hash:
        return _("its content does not match its hash (altered)")
    return None


def events_in_order(*, chunk_size: int = 2000) -> Iterator[AuditEvent]:
    # A server-side cursor on PostgreSQL: rows stream in chunks instead of loading the table.
    # The chained events, in chain order; the ones waiting for the chainer are counted apart.
    return AuditEvent.objects.filter(position__isnull=False).order_by("position").iterator(chunk_size=chunk_size)
