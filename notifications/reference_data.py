"""Reading and checking the data deadlines are counted with: the time-limit file and calendar CSVs.

Every problem is collected with its place in the file so that an operator fixes it in one pass;
the loaders write nothing unless this module found nothing wrong.
"""

import csv
import datetime
import io
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.utils.translation import gettext as _

from agencies.reference_data import ReferenceDataError, nul_columns

TIME_LIMITS_FILE = Path(__file__).resolve().parent / "data" / "time_limits.yaml"
TIME_LIMIT_FIELDS = ("code", "description", "limit_type", "amount", "unit", "source")
UNITS = ("hours", "days", "working_days", "months")
LIMIT_TYPES = ("respond_within", "lasts_at_most")

CALENDAR_COLUMNS = ("date", "type", "name")
# A day off (holiday or in lieu), or a day that is worked after all (a swapped Saturday, a holiday
# the package got wrong).
CALENDAR_TYPES = ("holiday", "day_off_in_lieu", "working_day")


@dataclass(frozen=True)
class TimeLimitRecord:
    code: str
    description: str
    limit_type: str
    amount: int
    unit: str
    source: str


@dataclass(frozen=True)
class CalendarRecord:
    line: int
    date: datetime.date
    type: str
    name: str


def time_limit_records_read(*, path: Path = TIME_LIMITS_FILE) -> list[TimeLimitRecord]:
    try:
        rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ReferenceDataError([str(exc)]) from exc
    if not isinstance(rows, list):
        raise ReferenceDataError([_("%(path)s must hold a list of time limits.") % {"path": path}])
    errors: list[str] = []
    records: list[TimeLimitRecord] = []
    seen: set[str] = set()
    for index, row in enumerate(rows, start=1):
        where = _("Time limit %(index)d") % {"index": index}
        if not isinstance(row, dict) or set(row) != set(TIME_LIMIT_FIELDS):
            errors.append(_("%(where)s: needs exactly the fields %(fields)s.")
                          % {"where": where, "fields": ", ".join(TIME_LIMIT_FIELDS)})
            continue
        if not isinstance(row["amount"], int) or isinstance(row["amount"], bool) or row["amount"] <= 0:
            errors.append(_("%(where)s: amount must be a positive whole number.") % {"where": where})
        if row["unit"] not in UNITS:
            errors.append(_("%(where)s: unit must be one of %(units)s.") % {"where": where, "units": ", ".join(UNITS)})
        if row["limit_type"] not in LIMIT_TYPES:
            errors.append(_("%(where)s: unknown type %(type)s.") % {"where": where, "type": row["limit_type"]})
        if not all(isinstance(row[key], str) and row[key].strip() for key in ("code", "description", "source")):
            errors.append(_("%(where)s: code, description and source must be non-empty text.") % {"where": where})
            continue
        if row["code"] in seen:
            errors.append(_("%(where)s: code %(code)s appears twice.") % {"where": where, "code": row["code"]})
        seen.add(row["code"])
        records.append(TimeLimitRecord(**{key: row[key] for key in TIME_LIMIT_FIELDS}))
    if errors:
        raise ReferenceDataError(errors)
    return records


def calendar_records_parse(*, text: str) -> list[CalendarRecord]:
    """Parse a CSV of official calendar decisions: columns date (YYYY-MM-DD), type, name. A file the csv
    module cannot read (a field over its size limit) is refused at the line where it stopped."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        fieldnames = reader.fieldnames or []
    except csv.Error as exc:
        raise ReferenceDataError([_("Line 1: unreadable CSV (%(error)s).") % {"error": exc}]) from None
    missing = [column for column in CALENDAR_COLUMNS if column not in fieldnames]
    if missing:
        raise ReferenceDataError([_("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)}])
    errors: list[str] = []
    records: list[CalendarRecord] = []
    try:
        _calendar_rows_check(reader, records, errors)
    except csv.Error as exc:
        # The csv reader's own count: the DictReader's is set only once a row was read.
        errors.append(_("Line %(line)d: unreadable CSV (%(error)s).") % {"line": reader.reader.line_num, "error": exc})
    if errors:
        raise ReferenceDataError(errors)
    return records


def _calendar_rows_check(reader: csv.DictReader, records: list[CalendarRecord], errors: list[str]) -> None:
    """Each good row of the reader appended to `records` as it is read, each bad row's problem to `errors`
    (the csv module's own error, a row it cannot read, is the caller's)."""
    lines_by_date: dict[datetime.date, int] = {}
    for row in reader:
        line = reader.line_num
        raw_date, kind, name = ((row.get(column) or "").strip() for column in CALENDAR_COLUMNS)
        nul = nul_columns(dict(zip(CALENDAR_COLUMNS, (raw_date, kind, name), strict=True)))
        if nul:
            errors.append(_("Line %(line)d: %(columns)s holds a NUL character (0x00); remove it.")
                          % {"line": line, "columns": ", ".join(nul)})
            continue
        try:
            day = datetime.date.fromisoformat(raw_date)
        except ValueError:
            errors.append(_("Line %(line)d: %(value)r is not a date (YYYY-MM-DD).") % {"line": line, "value": raw_date})
            continue
        if kind not in CALENDAR_TYPES:
            errors.append(_("Line %(line)d: type must be one of %(types)s.")
                          % {"line": line, "types": ", ".join(CALENDAR_TYPES)})
            continue
        if not name or len(name) > 150:
            errors.append(_("Line %(line)d: a name of 1 to 150 characters is needed.") % {"line": line})
            continue
        if day in lines_by_date:
            errors.append(_("Line %(line)d: %(date)s is already on line %(other)d.")
                          % {"line": line, "date": day.isoformat(), "other": lines_by_date[day]})
            continue
        lines_by_date[day] = line
        records.append(CalendarRecord(line=line, date=day, type=kind, name=name))
