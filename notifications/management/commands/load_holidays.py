import re

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from notifications.loaders import holiday_load_from_package

YEARS_RE = re.compile(r"^(\d{4})(?:-(\d{4}))?$")


class Command(BaseCommand):
    help = (
        "Add Viet Nam's public holidays (Tết, Hùng Kings, 30/4, 1/5, 2/9, New Year, the days in lieu and "
        "the Saturdays worked in exchange) from the `holidays` package for the given years. Days already "
        "stored are left as they are; apply official corrections afterwards with import_calendar."
    )

    def add_arguments(self, parser):
        parser.add_argument("--years", required=True, help="One year (2026) or a range (2025-2028).")

    def handle(self, *args, years, **options):
        match = YEARS_RE.fullmatch(years.strip())
        if not match:
            raise CommandError(
                _("--years must be a year or a range such as 2025-2028, not %(value)r.") % {"value": years}
            )
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if not 1995 <= first <= last <= 2100 or last - first > 50:
            raise CommandError(_("--years must run forward, within 1995–2100 and at most 50 years."))
        counts = holiday_load_from_package(years=range(first, last + 1))
        self.stdout.write(self.style.SUCCESS(
            _("Calendar %(first)d–%(last)d: %(created)d days added, %(unchanged)d already stored.")
            % {"first": first, "last": last, "created": counts.created, "unchanged": counts.unchanged}
        ))
