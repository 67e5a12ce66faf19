from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from agencies.reference_data import ReferenceDataError
from config.commands import load_reported
from notifications.loaders import time_limit_load_reference
from notifications.reference_data import TIME_LIMITS_FILE


class Command(BaseCommand):
    help = "Create or update the legal time limits from notifications/data/time_limits.yaml (matched by code)."

    def add_arguments(self, parser):
        parser.add_argument("--path", default=str(TIME_LIMITS_FILE), help="Another time-limit file.")

    def handle(self, *args, path, **options):
        load_reported(
            self, lambda: time_limit_load_reference(path=Path(path)), errors=(ReferenceDataError,),
            refused=_("Nothing written; fix %(path)s:") % {"path": path},
            written=_("Time limits: %(created)d created, %(updated)d updated, %(unchanged)d unchanged."),
        )
