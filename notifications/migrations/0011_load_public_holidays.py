"""Load Viet Nam's public holidays for settings.CALENDAR_PRELOAD_YEARS from the `holidays` package, so
that a production installation counts working days without Tết and the other holidays from its
first migrate. Days already stored, and days an administrator removed, are left alone
(notifications.loaders.holiday_load_from_package); later years: manage.py load_holidays."""

from django.conf import settings
from django.db import migrations


def load(apps, schema_editor):
    from notifications.loaders import calendar_years_parse, holiday_load_from_package

    years = calendar_years_parse(getattr(settings, "CALENDAR_PRELOAD_YEARS", ""))
    if not years:
        return
    holiday_load_from_package(
        years=years,
        holiday_model=apps.get_model("notifications", "PublicHoliday"),
        workday_model=apps.get_model("notifications", "WeekendWorkday"),
        removal_model=apps.get_model("notifications", "HolidayRemoval"),
        using=schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0010_holiday_removal")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
