"""Fixtures of the privacy tests: cases opened and closed through the real services, on a clock the
tests move (time-machine)."""

import datetime
import zoneinfo

import pytest

from cases.selectors import case_get_for_user
from cases.services import case_change_status
from tests.cases.conftest import (  # noqa: F401 (fixtures)
    SURVIVOR,
    case_build,
    shared_case,
    time_limits,
)

VN = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
OTHER_SURVIVOR = {
    "full_name": "Trần Thị Mai Lan", "phone": "0903 111 222", "address": "7 phố Huế, Hai Bà Trưng",
    "guardian_name": "", "guardian_phone": "", "sex": "female", "birth_year": 1990, "disability": "none",
    "ethnicity": "Kinh",
}


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=VN)


def close_case(world, case):
    access = case_get_for_user(user=world.lead_responder, case_id=case.pk)
    return case_change_status(access=access, actor=world.lead_responder, status="closed", close_reason="Đã hỗ trợ xong")


@pytest.fixture
def lead_access(world):
    def make(case, user=None):
        return case_get_for_user(user=user or world.lead_responder, case_id=case.pk)

    return make


def open_case(world, *, survivor: dict | None = None, risk_level: str = "medium"):
    """A case led by the police, opened through the service, for `survivor` (default: the adult of
    tests.cases)."""
    from tests.cases.conftest import incident_payload
    from tests.cases.services_helpers import case_open_through_edge

    return case_open_through_edge(actor=world.lead_responder, agency=world.police,
                                  survivor=dict(survivor or SURVIVOR), incident=incident_payload(), consent=None,
                                  risk_level=risk_level)
