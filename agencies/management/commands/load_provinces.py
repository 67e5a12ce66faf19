from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _

from agencies.reference_data import PROVINCES_FILE, ReferenceDataError
from agencies.services import province_load_reference
from config.commands import ReferenceLoadCommand


class Command(ReferenceLoadCommand):
    help = "Create or update the 34 provincial units (in force since 2025-07-01) from the reference file."
    option = "--file"
    option_help = "Province JSON file (default: bundled)."
    default = PROVINCES_FILE
    errors = (ReferenceDataError, IntegrityError)
    refused = _("No province written.")
    written = _("Provinces: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")

    def load(self, path: str):
        return province_load_reference(path=path)
