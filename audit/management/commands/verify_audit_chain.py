from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from audit.checkpoints import CheckpointFileError, checkpoints_read
from audit.checkpoints import checkpoint_dir as default_checkpoint_dir
from audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = (
        "Walk the audit chain in seq order and check every link, hash and checkpoint. Exits non-zero "
        "naming the first bad event."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint-dir", type=Path, default=None,
            help="Folder of checkpoint files (default: AUDIT_CHECKPOINT_DIR), e.g. a copy fetched from off-site.",
        )
        parser.add_argument("--chunk-size", type=int, default=2000, help="Rows fetched per round trip.")

    def handle(self, *args, checkpoint_dir: Path | None, chunk_size: int, **options):
        if chunk_size < 1:
            raise CommandError(_("--chunk-size must be at least 1."))
        directory = checkpoint_dir or default_checkpoint_dir()
        try:
            checkpoints = list(checkpoints_read(directory=directory))
        except CheckpointFileError as exc:
            raise CommandError(_("Unreadable checkpoint file: %(error)s") % {"error": exc}) from exc
        report = audit_chain_verify(checkpoints=checkpoints, chunk_size=chunk_size)
        if not report.intact:
            first = report.breaks[0]
            raise CommandError(
                _("Audit chain broken at seq %(seq)s: %(reason)s. %(count)s events before it are intact.")
                % {"seq": first.seq, "reason": first.reason, "count": report.events}
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
