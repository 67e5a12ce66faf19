from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.anchors import anchors_check
from audit.checkpoints import CheckpointFileError, checkpoints_read
from audit.checkpoints import checkpoint_dir as default_checkpoint_dir
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import audit_chain_pending, audit_chain_unchained


class Command(BaseCommand):
    help = (
        "Walk the audit chain in seq order and check every link, hash and signed anchor; check that the "
        "newest anchor is recent and that none was removed or forged. Exits non-zero saying what is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint-dir", type=Path, default=None,
            help="Folder of anchor files (default: AUDIT_CHECKPOINT_DIR), e.g. a copy fetched from off-site.",
        )
        parser.add_argument("--chunk-size", type=int, default=2000, help="Rows fetched per round trip.")
        parser.add_argument(
            "--max-age", type=int, default=None, metavar="SECONDS",
            help="How old the newest anchor may be (default: AUDIT_ANCHOR_MAX_AGE_SECONDS); 0 skips this check, "
            "e.g. when verifying a restored backup.",
        )

    def handle(self, *args, checkpoint_dir: Path | None, chunk_size: int, max_age: int | None, **options):
        if chunk_size < 1:
            raise CommandError(_("--chunk-size must be at least 1."))
        max_age = settings.AUDIT_ANCHOR_MAX_AGE_SECONDS if max_age is None else max_age
        if max_age < 0:
            raise CommandError(_("--max-age must be 0 or more seconds."))
        directory = checkpoint_dir or default_checkpoint_dir()
        # Chain what is waiting first, unless a chainer is at work right now (then it is doing so).
        audit_chain_pending(wait=False)
        now = timezone.now()
        try:
            checkpoints = list(checkpoints_read(directory=directory))
            problems, newest = anchors_check(
                checkpoints, events_exist=AuditEvent.objects.exists(), now=now,
                max_age=timedelta(seconds=max_age) if max_age else None,
            )
        except CheckpointFileError as exc:
            raise CommandError(_("Unreadable checkpoint file: %(error)s") % {"error": exc}) from exc
        report = audit_chain_verify(checkpoints=checkpoints, chunk_size=chunk_size)
        messages = []
        if not report.intact:
            first = report.breaks[0]
            messages.append(
                _("Audit chain broken at seq %(seq)s: %(reason)s. %(count)s events before it are intact.")
                % {"seq": first.seq, "reason": first.reason, "count": report.events}
            )
        messages.extend(_("Audit anchors (%(dir)s): %(problem)s.") % {"dir": directory, "problem": p.message}
                        for p in problems)
        # Events committed but not chained yet are outside the hashes: a few from the last moments are
        # normal; an old one means the chainer is not running or something blocks it.
        unchained, oldest = audit_chain_unchained()
        if unchained and now - oldest > timedelta(seconds=settings.AUDIT_UNCHAINED_MAX_AGE_SECONDS):
            messages.append(
                _("%(count)s audit events are not chained yet, the oldest from %(at)s: the chainer is not running "
                  "or is blocked, and these events are not protected by the chain.")
                % {"count": unchained, "at": oldest.isoformat()}
            )
        if messages:
            raise CommandError("\n".join(messages))
        if unchained:
            self.stdout.write(
                _("%(count)s audit events from the last %(seconds)s seconds wait to be chained (not verified yet).")
                % {"count": unchained, "seconds": settings.AUDIT_UNCHAINED_MAX_AGE_SECONDS}
            )
        if report.events == 0:
            self.stdout.write(_("Audit chain is empty."))
            return
        self.stdout.write(
            _(
                "Audit chain intact: %(events)s events, seq %(first)s to %(head)s, head hash %(hash)s; "
                "%(checkpoints)s of %(total)s checkpoints matched (from %(dir)s)."
            )
            % {
                "events": report.events, "first": report.first_seq, "head": report.head_seq,
                "hash": report.head_hash, "checkpoints": report.checkpoints_checked, "total": len(checkpoints),
                "dir": directory,
            }
        )
        self.stdout.write(
            _("Newest signed anchor: number %(n)s, seq %(seq)s, written %(at)s; events after it: %(after)s.")
            % {"n": newest.anchor["n"], "seq": newest.seq, "at": newest.anchor["at"],
               "after": report.head_seq - newest.seq}
        )
        if not max_age:
            self.stdout.write(_("The age of the newest anchor was not checked (--max-age 0)."))
