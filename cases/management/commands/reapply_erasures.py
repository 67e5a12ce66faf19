"""After restoring a backup: destroy again the data keys of every case the audit trail says was anonymised."""

from django.core.management.base import BaseCommand

from audit.context import command_audit_context_handle
from cases.erasure import anonymised_reapply


class Command(BaseCommand):
    help = "Destroy again the data keys of anonymised cases (run after restoring a backup)."

    @command_audit_context_handle
    def handle(self, *args, **options):
        reapplied = anonymised_reapply()
        if reapplied.ledger_unreadable:
            self.stderr.write(f"{reapplied.ledger_unreadable} line(s) of the erasure ledger record no erasure "
                              "(cut short by a crash); the audit trail and the other lines were applied.")
        self.stdout.write(f"{reapplied.destroyed} case data key(s) destroyed again.")
