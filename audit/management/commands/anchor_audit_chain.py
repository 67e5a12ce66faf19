from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from audit.checkpoints import CheckpointFileError
from audit.services import audit_checkpoint_write


class Command(BaseCommand):
    help = "Write a signed anchor of the audit chain head now (beat does it every AUDIT_ANCHOR_INTERVAL_SECONDS)."

    def handle(self, *args, **options):
        try:
            anchor = audit_checkpoint_write(why="command")
        except (CheckpointFileError, OSError) as exc:
            raise CommandError(_("The anchor could not be written: %(error)s") % {"error": exc}) from exc
        if anchor is None:
            self.stdout.write(_("The audit chain is empty: nothing to anchor."))
        else:
            self.stdout.write(_("Anchor %(n)s written: seq %(seq)s, hash %(hash)s.") % anchor)
