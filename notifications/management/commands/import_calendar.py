from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _

from agencies.reference_data import ReferenceDataError
from config.commands import FileLoadCommand
from notifications.loaders import calendar_import_csv


class Command(FileLoadCommand):
    help = (
        "Apply official calendar decisions from a CSV (UTF-8; columns date (YYYY-MM-DD), type, name). "
        "type is holiday, day_off_in_lieu, or working_day (a swapped Saturday worked, or a day the "
        "holidays package wrongly marks off). All rows are checked first; re-running changes nothing."
    )
    path_help = "CSV file of calendar decisions."
    errors = (ReferenceDataError, IntegrityError)
    written = _("Calendar: %(created)d days added, %(updated)d changed, %(unchanged)d unchanged.")

    def load(self, text: str):
        return calendar_import_csv(text=text)
