"""One date and time format per language (FORMAT_MODULE_PATH), used by every page, email and file.

Templates name the format ("DATETIME_FORMAT", "SHORT_DATE_FORMAT"...) instead of writing one out, and
Python uses django.utils.formats.date_format, so a page never mixes "12/05/2026 4:14 a.m." with
"16:14 05/12/2026". Input formats are left to Django's own locale modules.
"""

import datetime
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def datetime_text(moment: datetime.datetime) -> str:
    """An aware moment on Viet Nam's clock in the active language's one date-and-time format."""
    from django.utils.formats import date_format

    return date_format(moment.astimezone(VIETNAM), "DATETIME_FORMAT")
