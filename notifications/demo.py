"""seed_demo's calendar step: Viet Nam's public holidays around today, so that the demo's deadlines
skip Tết and the other holidays as the deadlines page says they do."""

from django.utils import timezone

from .calendar import VIETNAM
from .loaders import holiday_load_from_package

# The year before today's (deadlines already running) to two years ahead.
DEMO_CALENDAR_YEARS_BACK = 1
DEMO_CALENDAR_YEARS_AHEAD = 2


def demo_calendar_years() -> range:
    year = timezone.localdate(timezone=VIETNAM).year
    return range(year - DEMO_CALENDAR_YEARS_BACK, year + DEMO_CALENDAR_YEARS_AHEAD + 1)


def seed_demo_holidays_step(world) -> None:
    holiday_load_from_package(years=demo_calendar_years())
