"""What a notification may carry: a case number, a path inside HopLuc, and a few enumerated values.

Texts leave the system by email and SMS (Principle 4), so everything is checked against shapes that
cannot hold a name, a phone number, an address or a description, rather than against a list of
things that look identifying.
"""

import datetime
import re

from .models import Deadline, Urgency

CASE_NUMBER_RE = re.compile(r"^[A-Z0-9]{1,10}(-[A-Z0-9]{1,10}){0,4}$")
LINK_RE = re.compile(r"^/[A-Za-z0-9/_.\-]{0,199}$")
URGENCIES = tuple(Urgency.values)
HANDOFF_TYPES = ("referral", "transfer")


class UnsafeNotificationContent(ValueError):
    """Raised for content that could identify someone or that the texts do not know how to show."""


def _aware_iso_datetime(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return False
    return parsed.tzinfo is not None


# A published monthly report is named by its month and, for a province report, the province code.
PERIOD_RE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
PROVINCE_CODE_RE = re.compile(r"^[0-9A-Z]{1,8}$")

PARAM_CHECKS = {
    "due_at": _aware_iso_datetime,
    "deadline_kind": lambda value: value in Deadline.Kind.values,
    "urgency": lambda value: value in URGENCIES,
    "handoff_type": lambda value: value in HANDOFF_TYPES,
    "period": lambda value: isinstance(value, str) and PERIOD_RE.fullmatch(value) is not None,
    "province_code": lambda value: isinstance(value, str) and PROVINCE_CODE_RE.fullmatch(value) is not None,
}


CASE_NUMBER_MAX_LENGTH = 30


def case_number_check(case_number: str) -> None:
    if case_number and (len(case_number) > CASE_NUMBER_MAX_LENGTH or not CASE_NUMBER_RE.fullmatch(case_number)):
        raise UnsafeNotificationContent(f"case_number {case_number!r} is not a case number such as HN-2026-000123")


def link_check(link: str) -> None:
    # A path only: no scheme or host (the site URL is added when sending) and no query string,
    # which could carry search terms or names.
    if not LINK_RE.fullmatch(link) or "//" in link or ".." in link:
        raise UnsafeNotificationContent(f"link {link!r} must be a plain path inside HopLuc, e.g. /cases/12/")


def params_check(params: dict) -> None:
    if not isinstance(params, dict):
        raise UnsafeNotificationContent("params must be a dict")
    unknown = sorted(set(params) - set(PARAM_CHECKS))
    if unknown:
        raise UnsafeNotificationContent(
            f"params {unknown} are not allowed in notifications; allowed: {sorted(PARAM_CHECKS)}"
        )
    for key, value in params.items():
        if not PARAM_CHECKS[key](value):
            raise UnsafeNotificationContent(f"params[{key!r}] has a value notifications do not accept")


def notification_content_check(*, case_number: str, link: str, params: dict) -> None:
    case_number_check(case_number)
    link_check(link)
    params_check(params)
