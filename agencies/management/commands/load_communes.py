from django.core.management.base import BaseCommand
from django.db import IntegrityError
from django.utils.translation import gettext as _

from agencies.reference_data import ReferenceDataError
from agencies.services import commune_import_csv
from config.commands import load_reported, text_file_read


class Command(BaseCommand):
    help = (
        "Load communes from a CSV of the official list (UTF-8; columns code, name, province_code, "
        "valid_from, and optionally valid_to; dates as YYYY-MM-DD). All rows are checked first; "
        "nothing is written unless every row is valid. Re-running updates rows by code and valid_from."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file of communes.")

    def handle(self, *args, path, **options):
        text = text_file_read(path)
        load_reported(
            self, lambda: commune_import_csv(text=text), errors=(ReferenceDataError, IntegrityError),
            refused=_("No commune written; fix %(path)s:") % {"path": path},
            written=_("Communes: %(created)d created, %(updated)d updated, %(unchanged)d unchanged."),
        )
