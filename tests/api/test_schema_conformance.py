"""The OpenAPI schema matches what the API does: Schemathesis generates requests for every operation
from the schema (valid and invalid ones), sends them in-process through Django's WSGI handler as
three people (a responder, a supervisor and a ministry analyst) against a small synthetic world, and
fails on any 5xx, any status code the operation does not document, a content type it does not
declare, or a body that breaks the documented schema.

Bounded: a few examples per operation and role, derandomised (the same requests on every run), no
deadline. Path ids point at the world's real case, handoff, consent... half of the time, so that
successful answers are checked and not only 404s.
"""

import datetime
from collections import Counter

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cases.selectors import case_get_for_user
from config.api import input_validate
from notifications.models import Deadline, Notification
from privacy.breaches.services import breach_record
from privacy.services import legal_hold_place, privacy_request_record
from reports.services import monthly_reports_build
from risk.serializers import AssessmentInputSerializer, assessment_input_context
from risk.services import assessment_save
from takedowns.services import takedown_request_record
from tests.cases.conftest import medical_consent
from tests.cases.services_helpers import consent_record_through_edge
from tests.risk.conftest import answers_with
from tests.support.api_tokens import api_token_for
from tests.support.schema import openapi_document

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 5


@pytest.fixture
def known_ids(world, shared_case):
    """Ids of real things of the world, for the path parameters."""
    case = shared_case.case
    lead = case_get_for_user(user=world.lead_responder, case_id=case.pk)
    consent = consent_record_through_edge(access=lead, actor=world.lead_responder, data=medical_consent(world))
    takedown = takedown_request_record(access=case_get_for_user(user=world.lead_responder, case_id=case.pk),
                                       actor=world.lead_responder,
                                       data={"platform": "facebook", "content_reference": "https://example.invalid/x"})
    dsr = privacy_request_record(access=lead, actor=world.lead_responder,
                                 data={"kind": "access", "requester": "survivor", "details": "Xin bản sao."})
    hold = legal_hold_place(user=world.lead_supervisor, case=case, data={"reason": "Điều tra đang diễn ra."})
    breach = breach_record(actor=world.sysadmin, discovered_at=timezone.now() - datetime.timedelta(hours=1),
                           description="Thư gửi nhầm địa chỉ.", contact_point="dpo@example.invalid",
                           affected_agencies=[world.police], access_events=[])
    risk_access = case_get_for_user(user=world.lead_responder, case_id=case.pk)
    assessment = assessment_save(access=risk_access, actor=world.lead_responder, **input_validate(
        AssessmentInputSerializer, {"answers": answers_with(yes=["strangulation"])},
        **assessment_input_context(access=risk_access, user=world.lead_responder)))
    handoff = case.handoffs.order_by("pk").first()
    deadline = Deadline.objects.filter(case_id=case.pk).order_by("pk").first()
    notification = Notification.objects.order_by("pk").first()
    # A national report of a past month (no cases then: its tables count zeros).
    report = monthly_reports_build(period=datetime.date(2025, 10, 1), scopes=[None]).created[0]
    return {
        "case_id": case.pk, "consent_id": consent.pk, "handoff_id": handoff.pk, "takedown_id": takedown.pk,
        "request_id": dsr.pk, "hold_id": hold.pk, "breach_id": breach.pk,
        "deadline_id": deadline.pk if deadline else 1, "notification_id": notification.pk if notification else 1,
        "report_id": report.pk, "fmt": "csv", "assessment_id": assessment.pk,
    }


def conformance_failures(user, known: dict, *, max_examples: int = MAX_EXAMPLES) -> list[str]:
    """Every failed check, as "METHOD path: check title", over every operation of the schema."""
    schema = schemathesis.openapi.from_dict(openapi_document())
    schema.app = WSGIHandler()
    token = api_token_for(user)
    failures: list[str] = []
    details: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        names = {p.name for p in operation.path_parameters}
        fixed = {name: value for name, value in known.items() if name in names}
        strategies = [operation.as_strategy(generation_mode=mode)
                      for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)]
        if fixed:
            strategies.append(operation.as_strategy(path_parameters=fixed))

        @settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=st.one_of(strategies))
        def run(case):
            # Signing out (POST /api/auth/logout/) ends the token it used: it gets one of its own.
            headers = {"Authorization": api_token_for(user) if case.operation.path == "/api/auth/logout/" else token}
            response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except FailureGroup as group:  # every failure is counted, not only the first
                for failure in group.exceptions:
                    failures.append(f"{case.operation.label} [{response.status_code}]: {failure.title}")
                    # The request too (without the token), so that a failure seen in CI can be replayed.
                    details.setdefault(failures[-1], f"{str(failure.message)[:600]}\n{case.as_curl_command(base_url='http://testserver')[:600]}")

        run()
    for line, message in details.items():
        print(line, message, sep="\n", end="\n\n")
    return failures


@pytest.fixture(autouse=True)
def _one_connection_for_the_test():
    """As Django's test client does: requests must not close the connection holding the test's
    transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("role", ["lead_responder", "lead_supervisor", "analyst"])
def test_every_operation_answers_as_documented(world, known_ids, role):
    failures = conformance_failures(getattr(world, role), known_ids)
    summary = "\n".join(f"{count:4} × {line}" for line, count in Counter(failures).most_common())
    print(f"{role}: {len(failures)} failures\n{summary}")
    assert not failures, f"{len(failures)} responses break the schema:\n{summary}"
