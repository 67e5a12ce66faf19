from django.core.management.base import BaseCommand
from django.db import IntegrityError
from django.utils.translation import gettext as _

from agencies.reference_data import PROVINCES_FILE, ReferenceDataError
from agencies.services import province_load_reference
from config.commands import load_reported


class Command(BaseCommand):
    help = "Create or update the 34 provincial units (in force since 2025-07-01) from the reference file."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(PROVINCES_FILE), help="Province JSON file (default: bundled).")

    def handle(self, *args, file, **options):
        load_reported(
            self, lambda: province_load_reference(path=file), errors=(ReferenceDataError, IntegrityError),
            refused=_("No province written."),
            written=_("Provinces: %(created)d created, %(updated)d updated, %(unchanged)d unchanged."),
        )
