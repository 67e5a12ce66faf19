from pathlib import Path

from django.utils.translation import gettext_lazy as _

from agencies.reference_data import ReferenceDataError
from config.commands import ReferenceLoadCommand
from notifications.loaders import time_limit_load_reference
from notifications.reference_data import TIME_LIMITS_FILE


class Command(ReferenceLoadCommand):
    help = "Create or update the legal time limits from notifications/data/time_limits.yaml (matched by code)."
    option = "--path"
    option_help = "Another time-limit file."
    default = TIME_LIMITS_FILE
    errors = (ReferenceDataError,)
    written = _("Time limits: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")

    def load(self, path: str):
        return time_limit_load_reference(path=Path(path))
