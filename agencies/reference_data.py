"""Reading and validating the official administrative units (provinces, communes) before any write.

Every problem in a file is collected with its line number, so an operator fixes the whole file in
one pass; the loaders in services.py write nothing unless this module found nothing wrong.
"""

import csv
import datetime
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from .models import Commune, Province

PROVINCES_FILE = Path(__file__).resolve().parent / "data" / "provinces-2025.json"

COMMUNE_REQUIRED_COLUMNS = ("code", "name", "province_code", "valid_from")
COMMUNE_OPTIONAL_COLUMNS = ("valid_to",)
ABBREVIATION_RE = re.compile(r"^[A-Z]{2,4}$")
# Enough to fix a file in a few passes without flooding a terminal with thousands of lines.
MAX_REPORTED_ERRORS = 50
# PostgreSQL's text columns cannot hold it, and Python's csv and json modules read it as any other
# character: a file that has one is refused at its line, not by the database in the middle of the write.
NUL = "\x00"


def nul_columns(values: dict[str, object]) -> list[str]:
    """The columns whose text holds a NUL character (a loader's row check refuses the row)."""
    return [column for column, value in values.items() if isinstance(value, str) and NUL in value]


class ReferenceDataError(Exception):
    def __init__(self, errors: list[str]):
        self.errors = errors
        shown = errors[:MAX_REPORTED_ERRORS]
        if len(errors) > MAX_REPORTED_ERRORS:
            shown.append(_("… and %(count)d more problems.") % {"count": len(errors) - MAX_REPORTED_ERRORS})
        super().__init__("\n".join(shown))


@dataclass(frozen=True)
class ProvinceRecord:
    code: str
    name: str
    name_ascii: str
    abbreviation: str
    type: str
    valid_from: datetime.date


@dataclass(frozen=True)
class CommuneRecord:
    line: int
    code: str
    name: str
    province_code: str
    valid_from: datetime.date
    valid_to: datetime.date | None


def _field_max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


def province_records_read(*, path: Path = PROVINCES_FILE) -> list[ProvinceRecord]:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        effective_from = datetime.date.fromisoformat(document["effective_from"])
        units = document["units"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReferenceDataError(
            [_("%(path)s: not a province file (%(error)s).") % {"path": path, "error": exc}]
        ) from exc
    errors: list[str] = []
    records: list[ProvinceRecord] = []
    seen_codes: set[str] = set()
    seen_abbreviations: dict[str, str] = {}
    for index, unit in enumerate(units, start=1):
        try:
            record = ProvinceRecord(
                code=unit["code"], name=unit["name"], name_ascii=unit["name_ascii"],
                abbreviation=unit["abbreviation"], type=unit["type"], valid_from=effective_from,
            )
        except (KeyError, TypeError) as exc:
            errors.append(_("unit %(index)d: missing %(field)s.") % {"index": index, "field": exc})
            continue
        texts = {name: getattr(record, name) for name in ("code", "name", "name_ascii", "abbreviation", "type")}
        not_text = [name for name, value in texts.items() if not isinstance(value, str) or not value.strip()]
        if not_text or nul_columns(texts):
            errors.append(_("unit %(index)d: %(fields)s must be text, not empty, with no NUL character.")
                          % {"index": index, "fields": ", ".join(not_text + nul_columns(texts))})
            continue
        if record.code in seen_codes:
            errors.append(_("unit %(index)d: code %(code)s appears twice.") % {"index": index, "code": record.code})
        if not ABBREVIATION_RE.match(record.abbreviation):
            errors.append(
                _("unit %(index)d: abbreviation %(abbr)r must be 2 to 4 capital letters.")
                % {"index": index, "abbr": record.abbreviation}
            )
        if record.abbreviation in seen_abbreviations:
            errors.append(
                _("unit %(index)d: abbreviation %(abbr)s is already used by %(other)s.")
                % {"index": index, "abbr": record.abbreviation, "other": seen_abbreviations[record.abbreviation]}
            )
        if record.type not in Province.Type.values:
            errors.append(_("unit %(index)d: unknown type %(type)r.") % {"index": index, "type": record.type})
        seen_codes.add(record.code)
        seen_abbreviations[record.abbreviation] = record.name
        records.append(record)
    if errors:
        raise ReferenceDataError(errors)
    return records


def _parse_date(value: str) -> datetime.date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(value)
    return datetime.date.fromisoformat(value)


def _overlaps(a_from, a_to, b_from, b_to) -> bool:
    """Half-open validity periods [from, to); an open end means still valid."""
    return (a_to is None or b_from < a_to) and (b_to is None or a_from < b_to)


def commune_records_parse(*, text: str, province_codes: set[str]) -> list[CommuneRecord]:
    """Parse an official commune list (CSV, UTF-8, header line first) and check every row."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [column.strip() for column in next(reader)]
    except StopIteration:
        raise ReferenceDataError([_("line 1: the file is empty; expected a header line.")]) from None
    except csv.Error as exc:
        raise ReferenceDataError([_("line 1: unreadable header (%(error)s).") % {"error": exc}]) from None
    allowed = set(COMMUNE_REQUIRED_COLUMNS) | set(COMMUNE_OPTIONAL_COLUMNS)
    header_problems = []
    missing = [column for column in COMMUNE_REQUIRED_COLUMNS if column not in header]
    unknown = [column for column in header if column not in allowed]
    duplicated = sorted({column for column in header if header.count(column) > 1})
    if missing:
        header_problems.append(_("missing columns: %(columns)s") % {"columns": ", ".join(missing)})
    if unknown:
        header_problems.append(_("unknown columns: %(columns)s") % {"columns": ", ".join(unknown)})
    if duplicated:
        header_problems.append(_("repeated columns: %(columns)s") % {"columns": ", ".join(duplicated)})
    if header_problems:
        expected = ", ".join(COMMUNE_REQUIRED_COLUMNS + COMMUNE_OPTIONAL_COLUMNS)
        raise ReferenceDataError(
            [_("line 1: bad header (%(problems)s); expected the columns %(expected)s (valid_to optional).")
             % {"problems": "; ".join(header_problems), "expected": expected}]
        )

    code_length = _field_max_length(Commune, "code")
    name_length = _field_max_length(Commune, "name")
    errors: list[str] = []
    records: list[CommuneRecord] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                errors.append(
                    _("line %(line)d: %(found)d fields, expected %(expected)d.")
                    % {"line": line, "found": len(row), "expected": len(header)}
                )
                continue
            values = {column: cell.strip() for column, cell in zip(header, row, strict=True)}
            record = _commune_row_check(
                values=values, line=line, province_codes=province_codes, errors=errors,
                code_length=code_length, name_length=name_length,
            )
            if record is not None:
                records.append(record)
    except csv.Error as exc:
        errors.append(_("line %(line)d: unreadable CSV (%(error)s).") % {"line": reader.line_num, "error": exc})

    errors.extend(_commune_duplicates(records=records))
    if not records and not errors:
        errors.append(_("the file has a header but no communes."))
    if errors:
        raise ReferenceDataError(errors)
    return records


def _commune_row_check(*, values, line, province_codes, errors, code_length, name_length) -> CommuneRecord | None:
    row_errors: list[str] = []
    if nul_columns(values):
        errors.append(_("line %(line)d: %(columns)s holds a NUL character (0x00); remove it.")
                      % {"line": line, "columns": ", ".join(nul_columns(values))})
        return None
    code, name, province_code = values["code"], values["name"], values["province_code"]
    if not code:
        row_errors.append(_("line %(line)d: code is empty.") % {"line": line})
    elif len(code) > code_length:
        row_errors.append(
            _("line %(line)d: code %(code)r is longer than %(max)d characters.")
            % {"line": line, "code": code, "max": code_length}
        )
    if not name:
        row_errors.append(_("line %(line)d: name is empty.") % {"line": line})
    elif len(name) > name_length:
        row_errors.append(
            _("line %(line)d: name is longer than %(max)d characters.") % {"line": line, "max": name_length}
        )
    if province_code not in province_codes:
        row_errors.append(
            _("line %(line)d: unknown province code %(code)r.") % {"line": line, "code": province_code}
        )
    dates = {}
    for column in ("valid_from", "valid_to"):
        raw = values.get(column, "")
        if not raw:
            dates[column] = None
            continue
        try:
            dates[column] = _parse_date(raw)
        except ValueError:
            row_errors.append(
                _("line %(line)d: %(column)s %(value)r is not a date (expected YYYY-MM-DD).")
                % {"line": line, "column": column, "value": raw}
            )
            dates[column] = None
    if not values["valid_from"]:
        row_errors.append(_("line %(line)d: valid_from is empty.") % {"line": line})
    if dates["valid_from"] and dates["valid_to"] and dates["valid_to"] <= dates["valid_from"]:
        row_errors.append(
            _("line %(line)d: valid_to %(to)s must be after valid_from %(from)s.")
            % {"line": line, "to": dates["valid_to"], "from": dates["valid_from"]}
        )
    if row_errors:
        errors.extend(row_errors)
        return None
    return CommuneRecord(
        line=line, code=code, name=name, province_code=province_code,
        valid_from=dates["valid_from"], valid_to=dates["valid_to"],
    )


def _commune_duplicates(*, records: list[CommuneRecord]) -> list[str]:
    """A code may recur for successive validity periods (a renamed commune), never for overlapping ones."""
    errors = []
    by_code: dict[str, list[CommuneRecord]] = {}
    for record in records:
        for earlier in by_code.get(record.code, []):
            if _overlaps(earlier.valid_from, earlier.valid_to, record.valid_from, record.valid_to):
                errors.append(
                    _("line %(line)d: duplicate code %(code)s (already on line %(other)d for an overlapping period).")
                    % {"line": record.line, "code": record.code, "other": earlier.line}
                )
                break
        by_code.setdefault(record.code, []).append(record)
    return errors


def commune_conflicts_with_stored(*, records: list[CommuneRecord]) -> list[str]:
    """Stored communes that the file does not update (another valid_from) must not overlap the file's."""
    keys = {(record.code, record.valid_from) for record in records}
    stored: dict[str, list[Commune]] = {}
    for commune in Commune.objects.filter(code__in={record.code for record in records}).only(
        "code", "valid_from", "valid_to"
    ):
        if (commune.code, commune.valid_from) not in keys:
            stored.setdefault(commune.code, []).append(commune)
    errors = []
    for record in records:
        for commune in stored.get(record.code, []):
            if _overlaps(commune.valid_from, commune.valid_to, record.valid_from, record.valid_to):
                errors.append(
                    _("line %(line)d: code %(code)s overlaps the stored commune valid from %(from)s; "
                      "close that period first.")
                    % {"line": record.line, "code": record.code, "from": commune.valid_from}
                )
                break
    return errors
