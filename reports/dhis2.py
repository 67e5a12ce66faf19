"""DHIS2 `dataValueSets` export of a published report, and the optional push to a DHIS2 server.

The mapping from report tables to DHIS2 data elements and category option combos is data, read
from settings.DHIS2_MAPPING_FILE (JSON; see reports/dhis2_mapping.example.json for its shape).
Organisation units are sent by code (orgUnitIdScheme=CODE), the period as YYYYMM. Only published
numbers are sent: a hidden count ("<5", "x") or a withheld table sends nothing, never a number.
"""

import base64
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from django.conf import settings

from .models import MonthlyReport
from .periods import dhis2_period

logger = logging.getLogger(__name__)

MODES = ("columns", "rows", "total", "column_totals", "cells")


class Dhis2Error(Exception):
    """The mapping is unusable, or the DHIS2 server refused or could not be reached."""


def dhis2_mapping_load(path: Path | None = None) -> dict:
    path = Path(path or settings.DHIS2_MAPPING_FILE)
    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise Dhis2Error(f"Cannot read the DHIS2 mapping {path}: {error}") from error
    problems = []
    if not isinstance(mapping.get("org_units"), dict) or not {"national", "province"} <= set(mapping["org_units"]):
        problems.append('"org_units" needs "national" and "province" (a format with {code})')
    if "default" not in mapping.get("category_option_combos", {}):
        problems.append('"category_option_combos" needs a "default" combo')
    for key, rule in mapping.get("data_elements", {}).items():
        for one in _rules(rule):
            if not isinstance(one, dict) or one.get("by") not in MODES:
                problems.append(f'data element rule "{key}": "by" must be one of {", ".join(MODES)}')
    for key, rule in mapping.get("statistics", {}).items():
        if not isinstance(rule, dict) or not isinstance(rule.get("rows"), dict):
            problems.append(f'statistic rule "{key}" needs "rows": a data element per row')
    if problems:
        raise Dhis2Error(f"DHIS2 mapping {path}: " + "; ".join(problems))
    return mapping


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


def report_data_value_set(report: MonthlyReport, mapping: dict | None = None) -> dict:
    mapping = mapping or dhis2_mapping_load()
    combos = mapping["category_option_combos"]
    data_values = []
    for table in report.data["tables"]:
        rule = mapping.get("data_elements", {}).get(table["key"])
        if rule is None or table["withheld"]:
            continue
        for one in _rules(rule):
            for element, combo, value in _values(table, one, combos):
                # Only numbers leave: a marker means the count is hidden, and stays hidden in DHIS2 too.
                if element and combo and isinstance(value, int) and not isinstance(value, bool):
                    data_values.append({"dataElement": element, "categoryOptionCombo": combo, "value": str(value)})
    for statistic in report.data.get("statistics", []):
        rule = mapping.get("statistics", {}).get(statistic["key"])
        if rule is None:
            continue
        for row, value in zip(statistic["rows"], statistic["values"], strict=True):
            element = rule["rows"].get(row)
            if element and isinstance(value, int | float) and not isinstance(value, bool):
                data_values.append({"dataElement": element, "categoryOptionCombo": combos["default"],
                                    "value": str(value)})
    payload = {"period": dhis2_period(report.period), "orgUnit": _org_unit(report, mapping), "dataValues": data_values}
    if mapping.get("data_set"):
        payload["dataSet"] = mapping["data_set"]
    return payload


@dataclass(frozen=True)
class Dhis2Response:
    dry_run: bool
    status: str
    imported: int
    updated: int
    ignored: int
    conflicts: list

    @property
    def ok(self) -> bool:
        return self.status in ("SUCCESS", "OK", "WARNING") and not self.conflicts


def _parse(body: bytes, *, dry_run: bool) -> Dhis2Response:
    try:
        document = json.loads(body or b"{}")
    except ValueError as error:
        raise Dhis2Error(f"DHIS2 answered with something that is not JSON: {body[:200]!r}") from error
    # DHIS2 2.38+ wraps the import summary in {"response": ...}.
    summary = document.get("response", document) if isinstance(document, dict) else {}
    counts = summary.get("importCount", {})
    return Dhis2Response(
        dry_run=dry_run, status=str(summary.get("status", document.get("status", "UNKNOWN"))),
        imported=int(counts.get("imported", 0)), updated=int(counts.get("updated", 0)),
        ignored=int(counts.get("ignored", 0)), conflicts=list(summary.get("conflicts", [])),
    )


def _post(payload: dict, *, dry_run: bool) -> Dhis2Response:
    query = urlencode({
        "dryRun": "true" if dry_run else "false", "orgUnitIdScheme": "CODE", "importStrategy": "CREATE_AND_UPDATE",
    })
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
    try:
        with urlopen(request, timeout=settings.DHIS2_TIMEOUT) as response:  # noqa: S310
            body = response.read()
    except HTTPError as error:
        body = error.read()
        logger.error("DHIS2 %s answered HTTP %s: %s", "dry run" if dry_run else "import", error.code, body[:500])
        parsed = _parse(body, dry_run=dry_run) if body else None
        raise Dhis2Error(f"DHIS2 answered HTTP {error.code}" + (f" ({parsed.status})" if parsed else "")) from error
    except (URLError, OSError) as error:
        logger.error("DHIS2 could not be reached: %s", error)
        raise Dhis2Error(f"DHIS2 could not be reached: {error}") from error
    result = _parse(body, dry_run=dry_run)
    logger.info(
        "DHIS2 %s: status %s, imported %d, updated %d, ignored %d, %d conflict(s)",
        "dry run" if dry_run else "import", result.status, result.imported, result.updated, result.ignored,
        len(result.conflicts),
    )
    return result


def report_dhis2_push(*, report: MonthlyReport, dry_run_only: bool = False) -> list[Dhis2Response]:
    """Send the report to DHIS2: always a dry run first, and the real import only if the dry run
    was clean. Returns the responses (dry run, then import)."""
    if not settings.DHIS2_URL:
        raise Dhis2Error("DHIS2_URL is not set: pushing to DHIS2 is turned off")
    payload = report_data_value_set(report)
    dry = _post(payload, dry_run=True)
    if not dry.ok:
        raise Dhis2Error(f"The DHIS2 dry run was not clean (status {dry.status}, {len(dry.conflicts)} conflict(s))")
    if dry_run_only:
        return [dry]
    live = _post(payload, dry_run=False)
    if not live.ok:
        raise Dhis2Error(f"The DHIS2 import failed (status {live.status}, {len(live.conflicts)} conflict(s))")
    return [dry, live]
