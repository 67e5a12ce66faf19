"""Checks of the signed anchors themselves, before the chain is compared with them.

The chain walk (audit/chain.py) finds an anchor that the chain no longer matches (a rewrite, a
rehashed head) or that names an event beyond the head (events deleted from the end). What it cannot
see is an anchor that is not there: these checks find the ones that were removed, forged or stopped.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from .chain import Checkpoint
from .checkpoints import anchor_signature_valid


@dataclass(frozen=True)
class AnchorProblem:
    kind: str  # signature | missing | sequence | none | stale
    message: str


def anchors_check(
    checkpoints: list[Checkpoint], *, events_exist: bool, now: datetime, max_age: timedelta | None,
) -> tuple[list[AnchorProblem], Checkpoint | None]:
    """Problems with the anchors, in the order an operator should read them, and the newest signed anchor."""
    problems: list[AnchorProblem] = []
    signed = [c for c in checkpoints if c.anchor is not None]
    for checkpoint in signed:
        if not anchor_signature_valid(checkpoint.anchor, checkpoint.anchor["sig"]):
            problems.append(AnchorProblem("signature", _(
                "the signature of the anchor in %(source)s is wrong: it was forged or altered, or signed with a key "
                "that is not in AUDIT_ANCHOR_KEYS"
            ) % {"source": checkpoint.source}))
    if problems:
        return problems, None
    signed.sort(key=lambda c: c.anchor["n"])
    expected_n, expected_prev, previous = 1, "", None
    for checkpoint in signed:
        n = checkpoint.anchor["n"]
        if n != expected_n:
            problems.append(AnchorProblem("missing", _(
                "anchors %(first)s to %(last)s are missing before the one in %(source)s: they were deleted"
            ) % {"first": expected_n, "last": n - 1, "source": checkpoint.source}))
            return problems, None
        if checkpoint.anchor["prev"] != expected_prev:
            problems.append(AnchorProblem("missing", _(
                "the anchor in %(source)s does not follow the anchor numbered before it: anchors were replaced"
            ) % {"source": checkpoint.source}))
            return problems, None
        if previous is not None and checkpoint.seq < previous.seq:
            problems.append(AnchorProblem("sequence", _(
                "the anchor in %(source)s names seq %(seq)s, below seq %(before)s named by the anchor before it "
                "(%(before_source)s): the chain was cut between them"
            ) % {"source": checkpoint.source, "seq": checkpoint.seq, "before": previous.seq,
                 "before_source": previous.source}))
            return problems, None
        expected_n, expected_prev, previous = n + 1, checkpoint.anchor["sig"], checkpoint
    newest = previous
    if newest is None:
        if events_exist:
            problems.append(AnchorProblem("none", _(
                "there is no signed anchor although the chain has events: the anchors were deleted or never "
                "written (is beat running? `manage.py anchor_audit_chain` writes one)"
            )))
        return problems, None
    if max_age is not None:
        at = newest.anchor["at_parsed"]
        if now - at > max_age:
            problems.append(AnchorProblem("stale", _(
                "the newest anchor (%(source)s, seq %(seq)s) was written at %(at)s, more than %(minutes)s minutes "
                "ago: the newest anchors were deleted, or anchoring stopped"
            ) % {"source": newest.source, "seq": newest.seq, "at": at.isoformat(timespec="seconds"),
                 "minutes": int(max_age.total_seconds() // 60)}))
    return problems, newest
