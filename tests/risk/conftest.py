"""Fixtures of the risk tests: the cases tests' shared case (led by the police, referred to the health
agency for medical data only, so health is the agency without consent for psychosocial data) and
answer sets for the instrument's adult and child forms."""

import pytest

from cases.selectors import case_get_for_user
from risk.instrument import instrument_current
from risk.serializers import AssessmentInputSerializer, assessment_input_context
from risk.services import assessment_save
from tests.cases.conftest import SharedCase, case_build, shared_case, time_limits  # noqa: F401 (fixtures)
from tests.cases.services_helpers import through_edge


def adult_codes() -> tuple[str, ...]:
    return instrument_current().variants["adult"].item_codes


def child_codes() -> tuple[str, ...]:
    return instrument_current().variants["child"].item_codes


def answers_with(yes=(), not_known=(), *, codes=None) -> dict:
    """Every item answered: "yes" for `yes`, "not_known" for `not_known`, "no" otherwise. `yes` may
    be a number: the first n items that alone make nothing high."""
    codes = codes or adult_codes()
    if isinstance(yes, int):
        plain = [c for c in codes if c not in ("strangulation", "threats_to_kill")]
        yes = plain[:yes]
    return {c: "yes" if c in yes else "not_known" if c in not_known else "no" for c in codes}


def assessment_input(world, case, *, user=None, answers=None, complete=True, **data) -> dict:
    """The payload as the edge hands it to the service (ValidationError by field when it refuses it)."""
    user = user or world.lead_responder
    access = case_get_for_user(user=user, case_id=case.pk)
    payload = {"answers": answers if answers is not None else answers_with(0), "complete": complete, **data}
    return through_edge(AssessmentInputSerializer, payload, **assessment_input_context(access=access, user=user))


def assess(world, case, *, user=None, answers=None, complete=True, **data):
    """An assessment saved as the API saves it: input checked at the edge, then the service."""
    user = user or world.lead_responder
    access = case_get_for_user(user=user, case_id=case.pk)
    values = assessment_input(world, case, user=user, answers=answers, complete=complete, **data)
    return assessment_save(access=access, actor=user, **values)


@pytest.fixture
def case(shared_case) -> object:  # noqa: F811
    return shared_case.case
