"""Checkpoints of the chain head, kept outside the database.

Anyone able to rewrite the audit table can also recompute every hash after the row they changed.
A copy of the head (seq, hash) kept elsewhere cannot be rewritten through the database, so
verify_audit_chain compares the chain against every checkpoint. The folder is best a mount that the
database's administrators cannot write (another host, object storage with retention, WORM media).
"""

import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from django.conf import settings

from .chain import Checkpoint

CHECKPOINT_FILE = "audit-chain-checkpoints.jsonl"


class CheckpointFileError(ValueError):
    pass


def checkpoint_dir() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def checkpoint_append(*, seq: int, hash: str, at: datetime, directory: Path | None = None) -> Path:
    directory = directory or checkpoint_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CHECKPOINT_FILE
    line = json.dumps({"seq": seq, "hash": hash, "at": at.isoformat()}, sort_keys=True) + "\n"
    # One write() on an O_APPEND descriptor, then fsync: a line is either whole on disk or absent.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def checkpoints_read(*, directory: Path | None = None) -> Iterator[Checkpoint]:
    """Every checkpoint in every *.jsonl file of the folder (rotated files included)."""
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
                yield Checkpoint(seq=seq, hash=digest, source=source)
