"""After restoring a backup: destroy again the data keys of every case the audit trail says was anonymised."""

from django.core.management.base import BaseCommand

from cases.erasure import anonymised_reapply


class Command(BaseCommand):
    help = "Destroy again the data keys of anonymised cases (run after restoring a backup)."

    def handle(self, *args, **options):
        destroyed = anonymised_reapply()
        self.stdout.write(f"{destroyed} case data key(s) destroyed again.")
