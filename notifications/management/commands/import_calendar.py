from django.core.management.base import BaseCommand
from django.db import IntegrityError
from django.utils.translation import gettext as _

from agencies.reference_data import ReferenceDataError
from config.commands import load_reported, text_file_read
from notifications.loaders import calendar_import_csv


class Command(BaseCommand):
    help = (
        "Apply official calendar decisions from a CSV (UTF-8; columns date (YYYY-MM-DD), type, name). "
        "type is holiday, day_off_in_lieu, or working_day (a swapped Saturday worked, or a day the "
        "holidays package wrongly marks off). All rows are checked first; re-running changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file of calendar decisions.")

    def handle(self, *args, path, **options):
        text = text_file_read(path)
        load_reported(
            self, lambda: calendar_import_csv(text=text), errors=(ReferenceDataError, IntegrityError),
            refused=_("Nothing written; fix %(path)s:") % {"path": path},
            written=_("Calendar: %(created)d days added, %(updated)d changed, %(unchanged)d unchanged."),
        )
