from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError
from django.utils.translation import gettext as _

from agencies.reference_data import PROVINCES_FILE, ReferenceDataError
from agencies.services import province_load_reference
from config.commands import counts_written


class Command(BaseCommand):
    help = "Create or update the 34 provincial units (in force since 2025-07-01) from the reference file."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(PROVINCES_FILE), help="Province JSON file (default: bundled).")

    def handle(self, *args, file, **options):
        try:
            counts = province_load_reference(path=file)
        except (ReferenceDataError, IntegrityError) as exc:
            raise CommandError(_("No province written.") + f"\n{exc}") from exc
        self.stdout.write(self.style.SUCCESS(counts_written(
            _("Provinces: %(created)d created, %(updated)d updated, %(unchanged)d unchanged."), counts
        )))
