from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _

from agencies.reference_data import ReferenceDataError
from agencies.services import commune_import_csv
from config.commands import FileLoadCommand


class Command(FileLoadCommand):
    help = (
        "Load communes from a CSV of the official list (UTF-8; columns code, name, province_code, "
        "valid_from, and optionally valid_to; dates as YYYY-MM-DD). All rows are checked first; "
        "nothing is written unless every row is valid. Re-running updates rows by code and valid_from."
    )
    path_help = "CSV file of communes."
    errors = (ReferenceDataError, IntegrityError)
    refused = _("No commune written; fix %(path)s:")
    written = _("Communes: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")

    def load(self, text: str):
        return commune_import_csv(text=text)
