"""After restoring a backup: destroy again the data keys of every case the audit trail says was anonymised."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from audit.context import command_audit_context_handle
from cases.erasure import ErasureLedgerUnreadable, anonymised_reapply


class Command(BaseCommand):
    help = "Destroy again the data keys of anonymised cases (run after restoring a backup)."

    @command_audit_context_handle
    def handle(self, *args, **options):
        try:
            reapplied = anonymised_reapply()
        except ErasureLedgerUnreadable as exc:
            raise CommandError(_(
                "The erasure ledger cannot be read (%(error)s); nothing was changed. Make ERASURE_LEDGER_FILE "
                "name the ledger and run the command again."
            ) % {"error": exc}) from exc
        if reapplied.ledger_unreadable:
            self.stderr.write(_(
                "%(count)d line(s) of the erasure ledger record no erasure (cut short by a crash); the audit "
                "trail and the other lines were applied."
            ) % {"count": reapplied.ledger_unreadable})
        self.stdout.write(_("%(count)d case data key(s) destroyed again.") % {"count": reapplied.destroyed})
