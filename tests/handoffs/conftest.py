"""The handoff tests build their cases with the case tests' helpers and fixtures."""

import pytest

from cases.selectors import case_get_for_user
from tests.cases.conftest import case_build, medical_consent, shared_case, time_limits  # noqa: F401 (fixtures shared with the case tests)
from tests.cases.services_helpers import consent_record_through_edge


def consented_case(world):
    """Led by the police; the survivor agreed to medical data for the hospital (identity refused)
    and education data for the school."""
    case = case_build(world)
    lead = case_get_for_user(user=world.lead_responder, case_id=case.pk)
    consent_record_through_edge(access=lead, actor=world.lead_responder, data=medical_consent(world))
    consent_record_through_edge(access=lead, actor=world.lead_responder, data={
        "receiving_agency": world.school.pk, "granted_categories": ["education"], "purpose": "An toàn ở trường",
        "given_by": "survivor"})
    return case


@pytest.fixture
def case(world):
    return consented_case(world)
