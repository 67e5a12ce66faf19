"""DHIS2 `dataValueSets` export of a published report, and the optional push to a DHIS2 server.

The mapping from report tables to DHIS2 data elements and category option combos is data, read
from settings.DHIS2_MAPPING_FILE (JSON; see reports/dhis2_mapping.example.json for its shape).
Organisation units are sent by code (orgUnitIdScheme=CODE), the period as YYYYMM. Only published
numbers are sent: a hidden count ("<5", "x") or a withheld table sends nothing, never a number.

A push keeps DHIS2 in step with the report: every mapped value of the report's tables that the
report does not publish as a number (hidden, withheld, or published by an earlier version only) is
deleted in the same push, with DHIS2's documented `importStrategy=DELETE` on `dataValueSets`, so a
correction never leaves the previous version's figure standing (DHIS2 counts a value it does not
hold as "ignored", so deleting one that was never sent is harmless).
"""

import base64
import json
import logging
import re
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from django.conf import settings

from .models import MonthlyReport
from .periods import dhis2_period

logger = logging.getLogger(__name__)

MODES = ("columns", "rows", "total", "column_totals", "cells")
# DHIS2's identifiers: 11 letters and digits, the first a letter.
UID_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9]{10}")
# The example mapping's identifiers all start so; a mapping that still holds one is not ready.
PLACEHOLDER_PREFIX = "Xmpl"


class Dhis2Error(Exception):
    """The mapping is unusable, or the DHIS2 server refused or could not be reached."""


def _mapping_uids(mapping: dict):
    """(where, UID) for every DHIS2 identifier the mapping names (org units are codes, not UIDs)."""
    yield "data_set", mapping.get("data_set")
    for key, combo in mapping.get("category_option_combos", {}).items():
        yield f'category option combo "{key}"', combo
    for key, rule in mapping.get("data_elements", {}).items():
        for one in _rules(rule):
            if not isinstance(one, dict):
                continue
            if "element" in one:
                yield f'data element rule "{key}"', one["element"]
            for part in ("rows", "columns", "cells"):
                for name, element in (one.get(part) or {}).items():
                    yield f'data element rule "{key}" {part} "{name}"', element
    for key, rule in mapping.get("statistics", {}).items():
        for name, element in ((rule.get("rows") if isinstance(rule, dict) else None) or {}).items():
            yield f'statistic rule "{key}" row "{name}"', element


def dhis2_mapping_load(path: Path | None = None) -> dict:
    path = Path(path or settings.DHIS2_MAPPING_FILE)
    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise Dhis2Error(f"Cannot read the DHIS2 mapping {path}: {error}") from error
    if not isinstance(mapping, dict):
        raise Dhis2Error(f"DHIS2 mapping {path}: the file must hold a JSON object")
    problems = []
    if not mapping.get("data_set"):
        problems.append('"data_set" is required: the UID of the DHIS2 data set the values belong to')
    if not isinstance(mapping.get("org_units"), dict) or not {"national", "province"} <= set(mapping["org_units"]) \
            or not _org_unit_formats(mapping["org_units"]):
        problems.append('"org_units" needs "national" and "province" (a format with {code})')
    # Read as objects everywhere below: anything else is refused here, before it is read.
    shapes = [f'"{name}" must be an object' for name in ("category_option_combos", "data_elements", "statistics")
              if not isinstance(mapping.get(name, {}), dict)]
    if shapes:
        raise Dhis2Error(f"DHIS2 mapping {path}: " + "; ".join(problems + shapes))
    if "default" not in mapping.get("category_option_combos", {}):
        problems.append('"category_option_combos" needs a "default" combo')
    for key, rule in mapping.get("data_elements", {}).items():
        for one in _rules(rule):
            if not isinstance(one, dict) or one.get("by") not in MODES:
                problems.append(f'data element rule "{key}": "by" must be one of {", ".join(MODES)}')
                continue
            shapes += [f'data element rule "{key}": "{part}" must be an object' for part in ("rows", "columns", "cells")
                       if not isinstance(one.get(part, {}), dict)]
    for key, rule in mapping.get("statistics", {}).items():
        if not isinstance(rule, dict) or not isinstance(rule.get("rows"), dict):
            problems.append(f'statistic rule "{key}" needs "rows": a data element per row')
    if shapes:
        raise Dhis2Error(f"DHIS2 mapping {path}: " + "; ".join(problems + shapes))
    for where, uid in _mapping_uids(mapping):
        if uid and not (isinstance(uid, str) and UID_PATTERN.fullmatch(uid)):
            problems.append(f"{where}: {uid!r} is not a DHIS2 UID (11 letters and digits, the first a letter)")
    if problems:
        raise Dhis2Error(f"DHIS2 mapping {path}: " + "; ".join(problems))
    return mapping


def _org_unit_formats(org_units: dict) -> bool:
    """Whether the national org unit is a code and the province's a format of {code} only."""
    national, province = org_units["national"], org_units["province"]
    if not isinstance(national, str) or not isinstance(province, str):
        return False
    try:
        province.format(code="01")
    except (KeyError, IndexError, ValueError):
        return False
    return True


def dhis2_mapping_placeholders(mapping: dict) -> list[str]:
    """The example's placeholder UIDs the mapping still holds (none in a mapping ready to push)."""
    return sorted({uid for _where, uid in _mapping_uids(mapping)
                   if isinstance(uid, str) and uid.startswith(PLACEHOLDER_PREFIX)})


def _rules(rule) -> list:
    """A table's rule, or several (one table can feed data elements by rows and by columns)."""
    return rule if isinstance(rule, list) else [rule]


def _org_unit(report: MonthlyReport, mapping: dict) -> str:
    scope = report.data["scope"]
    if scope["level"] == "national":
        return mapping["org_units"]["national"]
    return mapping["org_units"]["province"].format(code=scope["code"])


def _values(table: dict, rule: dict, combos: dict):
    """(data element, category option combo, published value) for one table and its rule."""
    default = combos["default"]
    keys = ["|".join(c) for c in table["columns"]]
    by = rule["by"]
    if by == "total":
        yield rule.get("element"), default, table["total"]
    elif by == "rows":
        for row, total in zip(table["rows"], table["row_totals"], strict=True):
            yield rule.get("rows", {}).get(row), default, total
    elif by == "column_totals":
        for key, total in zip(keys, table["column_totals"], strict=True):
            yield rule.get("columns", {}).get(key), default, total
    elif by == "cells":
        for row, cells in zip(table["rows"], table["cells"], strict=True):
            for key, value in zip(keys, cells, strict=True):
                yield rule.get("cells", {}).get(f"{row}|{key}"), default, value
    else:  # "columns": a data element per row, disaggregated by the columns (sex × age)
        for row, cells in zip(table["rows"], table["cells"], strict=True):
            element = rule.get("rows", {}).get(row)
            for key, value in zip(keys, cells, strict=True):
                yield element, combos.get(key), value


def _publishable(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _mapped_values(report: MonthlyReport, mapping: dict):
    """(data element, category option combo, published value) for every entry of the report that
    the mapping names, whatever its value: a number, a marker, or None (withheld)."""
    combos = mapping["category_option_combos"]
    for table in report.data["tables"]:
        rule = mapping.get("data_elements", {}).get(table["key"])
        if rule is None:
            continue
        for one in _rules(rule):
            for element, combo, value in _values(table, one, combos):
                if element and combo:
                    # A withheld table's entries are all unpublished, whatever they hold.
                    yield element, combo, None if table["withheld"] else value
    for statistic in report.data.get("statistics", []):
        rule = mapping.get("statistics", {}).get(statistic["key"])
        if rule is None:
            continue
        for row, value in zip(statistic["rows"], statistic["values"], strict=True):
            element = rule["rows"].get(row)
            if element:
                yield element, combos["default"], value


def _payload(report: MonthlyReport, mapping: dict, data_values: list[dict]) -> dict:
    return {
        "dataSet": mapping["data_set"], "period": dhis2_period(report.period), "orgUnit": _org_unit(report, mapping),
        "dataValues": data_values,
    }


def report_data_value_set(report: MonthlyReport, mapping: dict | None = None) -> dict:
    """The report's published numbers as one DHIS2 data value set."""
    mapping = mapping or dhis2_mapping_load()
    data_values = []
    for element, combo, value in _mapped_values(report, mapping):
        # Only numbers leave: a marker means the count is hidden, and stays hidden in DHIS2 too.
        if _publishable(value):
            data_values.append({"dataElement": element, "categoryOptionCombo": combo, "value": str(value)})
    return _payload(report, mapping, data_values)


def report_data_value_deletions(report: MonthlyReport, mapping: dict | None = None) -> dict:
    """The data value set to delete when pushing `report`: every mapped entry of this report, and
    of every earlier version of it, that this report does not publish as a number. Pushing v2 thus
    removes what v1 sent and v2 hides or no longer has."""
    mapping = mapping or dhis2_mapping_load()
    sent = {(v["dataElement"], v["categoryOptionCombo"]) for v in report_data_value_set(report, mapping)["dataValues"]}
    keys: dict[tuple[str, str], None] = {}
    earlier = MonthlyReport.objects.filter(
        province_id=report.province_id, period=report.period, version__lt=report.version,
    ).order_by("version")
    for version in [report, *earlier]:
        for element, combo, _value in _mapped_values(version, mapping):
            if (element, combo) not in sent:
                keys[(element, combo)] = None
    return _payload(report, mapping, [{"dataElement": e, "categoryOptionCombo": c} for e, c in keys])


@dataclass(frozen=True)
class Dhis2Response:
    dry_run: bool
    status: str
    imported: int
    updated: int
    ignored: int
    conflicts: list
    deleted: int = 0
    strategy: str = "CREATE_AND_UPDATE"

    @property
    def ok(self) -> bool:
        return self.status in ("SUCCESS", "OK", "WARNING") and not self.conflicts


def _parse(body: bytes, *, dry_run: bool, strategy: str) -> Dhis2Response:
    try:
        document = json.loads(body or b"{}")
    except ValueError as error:
        raise Dhis2Error(f"DHIS2 answered with something that is not JSON: {body[:200]!r}") from error
    not_a_summary = Dhis2Error(f"DHIS2 answered with something that is not an import summary: {body[:200]!r}")
    if not isinstance(document, dict):
        raise not_a_summary
    # DHIS2 2.38+ wraps the import summary in {"response": ...}.
    summary = document.get("response", document)
    summary = summary if isinstance(summary, dict) else {}
    counts = summary.get("importCount") or {}
    conflicts = summary.get("conflicts") or []
    if not isinstance(counts, dict) or not isinstance(conflicts, list):
        raise not_a_summary
    numbers = {name: counts.get(name, 0) for name in ("imported", "updated", "ignored", "deleted")}
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers.values()):
        raise not_a_summary
    return Dhis2Response(
        dry_run=dry_run, status=str(summary.get("status", document.get("status", "UNKNOWN"))),
        conflicts=conflicts, strategy=strategy, **numbers,
    )


def _post(payload: dict, *, dry_run: bool, strategy: str = "CREATE_AND_UPDATE") -> Dhis2Response:
    query = urlencode({"dryRun": "true" if dry_run else "false", "orgUnitIdScheme": "CODE", "importStrategy": strategy})
    url = f"{settings.DHIS2_URL.rstrip('/')}/api/dataValueSets?{query}"
    if not url.startswith(("https://", "http://")):
        raise Dhis2Error(f"DHIS2_URL must be an http(s) address, not {settings.DHIS2_URL!r}")
    credentials = base64.b64encode(f"{settings.DHIS2_USER}:{settings.DHIS2_PASSWORD}".encode()).decode()
    request = Request(  # noqa: S310 - the scheme is checked above
        url, data=json.dumps(payload).encode(), method="POST",
        headers={
            "Content-Type": "application/json", "Accept": "application/json", "Authorization": f"Basic {credentials}",
        },
    )
    kind = ("dry run" if dry_run else "import") + ("" if strategy == "CREATE_AND_UPDATE" else f" ({strategy})")
    try:
        with urlopen(request, timeout=settings.DHIS2_TIMEOUT) as response:  # noqa: S310
            body = response.read()
    except HTTPError as error:
        body = error.read()
        logger.error("DHIS2 %s answered HTTP %s: %s", kind, error.code, body[:500])
        try:
            parsed = _parse(body, dry_run=dry_run, strategy=strategy) if body else None
        except Dhis2Error:
            parsed = None
        raise Dhis2Error(f"DHIS2 answered HTTP {error.code}" + (f" ({parsed.status})" if parsed else "")) from error
    except (URLError, OSError) as error:
        logger.error("DHIS2 could not be reached: %s", error)
        raise Dhis2Error(f"DHIS2 could not be reached: {error}") from error
    except HTTPException as error:  # a status line that is not HTTP, a body cut short
        logger.error("DHIS2 %s: the answer is not HTTP: %r", kind, error)
        raise Dhis2Error(f"DHIS2 answered with something that is not an HTTP answer ({error!r:.200})") from error
    result = _parse(body, dry_run=dry_run, strategy=strategy)
    logger.info(
        "DHIS2 %s: status %s, imported %d, updated %d, deleted %d, ignored %d, %d conflict(s)",
        kind, result.status, result.imported, result.updated, result.deleted, result.ignored, len(result.conflicts),
    )
    return result


def dhis2_mapping_check_ready(mapping: dict) -> None:
    """Refuse a mapping that still holds the example's placeholder UIDs: DHIS2 would ignore every
    value, or worse, match identifiers someone else created."""
    placeholders = dhis2_mapping_placeholders(mapping)
    if placeholders:
        shown = ", ".join(placeholders[:3]) + (", …" if len(placeholders) > 3 else "")
        raise Dhis2Error(
            f"The DHIS2 mapping {settings.DHIS2_MAPPING_FILE} still holds {len(placeholders)} placeholder UID(s) "
            f"({shown}): copy it, replace every {PLACEHOLDER_PREFIX}... UID with the data set, data element and "
            "category option combo UIDs of your DHIS2 instance, and point DHIS2_MAPPING_FILE at the copy."
        )


def report_dhis2_push(*, report: MonthlyReport, dry_run_only: bool = False) -> list[Dhis2Response]:
    """Send the report to DHIS2 in step with it: first delete what the report does not publish as a
    number (importStrategy=DELETE: hidden or withheld entries, and whatever an earlier version sent
    that this one no longer does), then send its numbers (CREATE_AND_UPDATE). Every request is
    made as a dry run first, and the real ones only when all dry runs were clean. Returns the
    responses (dry runs, then the imports)."""
    if not settings.DHIS2_URL:
        raise Dhis2Error("DHIS2_URL is not set: pushing to DHIS2 is turned off")
    mapping = dhis2_mapping_load()
    dhis2_mapping_check_ready(mapping)
    steps = []
    deletions = report_data_value_deletions(report, mapping)
    if deletions["dataValues"]:
        steps.append(("DELETE", deletions))
    steps.append(("CREATE_AND_UPDATE", report_data_value_set(report, mapping)))
    responses = _post_steps(steps, dry_run=True)
    if dry_run_only:
        return responses
    return responses + _post_steps(steps, dry_run=False)


def _post_steps(steps: list[tuple[str, dict]], *, dry_run: bool) -> list[Dhis2Response]:
    """Post the steps in order; the first that DHIS2 does not take cleanly stops the push."""
    responses = []
    for strategy, payload in steps:
        response = _post(payload, dry_run=dry_run, strategy=strategy)
        responses.append(response)
        if not response.ok:
            what = f"dry run ({strategy}) was not clean" if dry_run else f"import ({strategy}) failed"
            raise Dhis2Error(
                f"The DHIS2 {what} (status {response.status}, {len(response.conflicts)} conflict(s))"
            )
    return responses
