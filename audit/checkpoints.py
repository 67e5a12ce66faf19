"""Signed anchors (checkpoints) of the chain head, kept outside the database.

Anyone able to rewrite the audit table can also recompute every hash after the row they changed, or
delete the newest rows. A copy of the head (seq, hash) kept elsewhere cannot be rewritten through the
database, so verify_audit_chain compares the chain against every anchor.

Placement stops deletion through the database: the anchors are lines appended to a file in
AUDIT_CHECKPOINT_DIR, which no database role (not the application's, not the owner's) can reach. The
folder is best a mount that the database's administrators cannot write (another host, object
storage with retention, WORM media).

The signature makes forgery detectable: every line is signed with HMAC-SHA256 under a key from the
environment (AUDIT_ANCHOR_KEYS), which the database does not hold. Each anchor is numbered and carries
the signature of the one before it, so an anchor removed from the middle of the file is noticed; one
removed from the end is noticed by its age (the newest anchor becomes older than the tolerance).

Lines without a signature (written before anchors were signed) are still compared with the chain but
never count as the newest anchor.
"""

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from django.conf import settings

from .chain import Checkpoint

CHECKPOINT_FILE = "audit-chain-checkpoints.jsonl"
ANCHOR_VERSION = 2
# The fields an anchor's signature covers, besides itself.
SIGNED_FIELDS = ("v", "n", "seq", "hash", "at", "prev", "why")


class CheckpointFileError(ValueError):
    pass


def checkpoint_dir() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def anchor_keys() -> list[bytes]:
    keys = [key.encode() for key in settings.AUDIT_ANCHOR_KEYS if key]
    if not keys:
        raise CheckpointFileError("AUDIT_ANCHOR_KEYS is empty: anchors cannot be signed or checked")
    return keys


def anchor_signature(fields: dict, *, key: bytes) -> str:
    message = json.dumps({name: fields[name] for name in SIGNED_FIELDS}, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def anchor_signature_valid(fields: dict, signature: str) -> bool:
    return any(hmac.compare_digest(anchor_signature(fields, key=key), signature) for key in anchor_keys())


def _last_signed_line(path: Path) -> dict | None:
    """The last signed line of a file, read from its end (the file grows by one line every few minutes)."""
    if not path.exists():
        return None
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        block = 8192
        while True:
            start = max(size - block, 0)
            handle.seek(start)
            lines = handle.read(size - start).splitlines()
            # The first line of a partial block may be cut; it counts only when the block starts the file.
            candidates = lines if start == 0 else lines[1:]
            for raw in reversed(candidates):
                try:
                    data = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(data, dict) and "sig" in data:
                    return data
            if start == 0:
                return None
            block *= 4


def _last_signed_anchor(directory: Path, current: Path) -> dict | None:
    last = _last_signed_line(current)
    if last is not None:
        return last
    # The current file was rotated away (or never had a signed line): continue the numbering of the others.
    found = [line for path in sorted(directory.glob("*.jsonl")) if path != current
             if (line := _last_signed_line(path)) is not None]
    return max(found, key=lambda line: line.get("n", 0), default=None)


def checkpoint_append(
    *, seq: int, hash: str, at: datetime, why: str = "schedule", directory: Path | None = None,
) -> dict:
    """Append a signed anchor naming (seq, hash) and return it. Writers (beat, a worker publishing a
    report, the command) are serialized by an exclusive lock on the file, so numbers never repeat."""
    directory = directory or checkpoint_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CHECKPOINT_FILE
    key = anchor_keys()[0]
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        previous = _last_signed_anchor(directory, path)
        fields = {
            "v": ANCHOR_VERSION,
            "n": (previous["n"] + 1) if previous else 1,
            "seq": seq,
            "hash": hash,
            "at": at.isoformat(),
            "prev": previous["sig"] if previous else "",
            "why": why,
        }
        line = {**fields, "sig": anchor_signature(fields, key=key)}
        # One write() on an O_APPEND descriptor, then fsync: a line is either whole on disk or absent.
        os.write(fd, (json.dumps(line, sort_keys=True) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)  # releases the lock
    return {**line, "file": str(path)}


def checkpoints_read(*, directory: Path | None = None) -> Iterator[Checkpoint]:
    """Every checkpoint in every *.jsonl file of the folder (rotated files included). Signatures are
    checked by the caller (audit.anchors.anchors_check), which needs them all together."""
    directory = directory or checkpoint_dir()
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                source = f"{path.name}:{number}"
                try:
                    data = json.loads(line)
                    seq, digest = data["seq"], data["hash"]
                except (ValueError, KeyError, TypeError) as exc:
                    raise CheckpointFileError(f"{source}: not a checkpoint line ({exc})") from exc
                if not isinstance(seq, int) or seq < 1 or not isinstance(digest, str) or len(digest) != 64:
                    raise CheckpointFileError(f"{source}: not a checkpoint line")
                signed = None
                if "sig" in data:
                    try:
                        signed = {name: data[name] for name in (*SIGNED_FIELDS, "sig")}
                        signed["at_parsed"] = datetime.fromisoformat(data["at"])
                    except (KeyError, TypeError, ValueError) as exc:
                        raise CheckpointFileError(f"{source}: not a signed anchor line ({exc})") from exc
                    if not isinstance(signed["n"], int) or signed["at_parsed"].tzinfo is None:
                        raise CheckpointFileError(f"{source}: not a signed anchor line")
                yield Checkpoint(seq=seq, hash=digest, source=source, anchor=signed)
