"""Seal every case value not yet sealed with its case's data key (see cases.sealing).

Migration cases 0008 does this once; run it again after loading data written by an older version.
"""

from django.apps import apps
from django.core.management.base import BaseCommand

from audit.context import command_audit_context_handle
from cases.sealing import current_specs, seal_case_data
from config.commands import batch_size_argument


class Command(BaseCommand):
    help = "Give every case a data key and seal its identity and free text with it."

    def add_arguments(self, parser):
        batch_size_argument(parser)

    @command_audit_context_handle
    def handle(self, *args, batch_size, **options):
        counts = seal_case_data(apps, current_specs(), batch_size=batch_size)
        sealed = sum(counts.values())
        for label, count in sorted(counts.items()):
            if count:
                self.stdout.write(f"{label}: {count} sealed")
        self.stdout.write(f"{sealed} value(s) sealed.")
