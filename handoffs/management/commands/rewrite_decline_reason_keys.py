from django.core.management.base import BaseCommand
from django.db import connection, transaction

from cases.models import CaseKey
from handoffs.reason_keys import BATCH, decline_reason_keys_write


class Command(BaseCommand):
    help = (
        "Write again the key of every handoff's decline reason (after SEARCH_HASH_KEY changed: until then the same "
        "words are counted apart on the supervisor's register). Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=BATCH)

    def handle(self, *args, batch_size, **options):
        with transaction.atomic():
            written = decline_reason_keys_write(connection=connection, case_keys=CaseKey, batch_size=batch_size)
        self.stdout.write(self.style.SUCCESS(f"{written} decline reason keys written."))
