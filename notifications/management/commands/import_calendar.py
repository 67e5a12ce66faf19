from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError
from django.utils.translation import gettext as _

from agencies.reference_data import ReferenceDataError
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
        try:
            text = Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise CommandError(_("%(path)s is not UTF-8 text (%(error)s).") % {"path": path, "error": exc}) from exc
        except OSError as exc:
            raise CommandError(_("%(path)s cannot be read (%(error)s).") % {"path": path, "error": exc}) from exc
        try:
            counts = calendar_import_csv(text=text)
        except (ReferenceDataError, IntegrityError) as exc:
            raise CommandError(_("Nothing written; fix %(path)s:") % {"path": path} + f"\n{exc}") from exc
        self.stdout.write(self.style.SUCCESS(
            _("Calendar: %(created)d days added, %(updated)d changed, %(unchanged)d unchanged.")
            % {"created": counts.created, "updated": counts.updated, "unchanged": counts.unchanged}
        ))
