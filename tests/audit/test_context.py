"""The audit context (audit.context): a service below the edge takes no request, and the events it
writes still carry the request id and client address of the web request, or the task or command
that ran it."""

import json

from celery import shared_task
from django.core.management import call_command
from django.http import JsonResponse
from django.test import RequestFactory

from audit.context import (
    EMPTY,
    audit_context,
    command_audit_context,
    current_audit_context,
    task_audit_context,
)
from audit.middleware import AuditContextMiddleware, RequestIdMiddleware
from audit.models import AuditAction, AuditEvent
from audit.services import audit_record
from tests.conftest import PASSWORD

seen_in_task = {}


@shared_task(name="tests.audit.record_from_task")
def record_from_task() -> int:
    seen_in_task["context"] = current_audit_context()
    return audit_record(actor=None, action=AuditAction.VIEW, target="task-test").seq


def test_a_service_called_from_a_view_records_the_request_context(client, world):
    client.force_login(world.lead_responder)
    response = client.post(
        "/password/",
        {"old_password": PASSWORD, "new_password1": "Mây-trắng-bay-về-2026", "new_password2": "Mây-trắng-bay-về-2026"},
        HTTP_X_REQUEST_ID="edge-proxy-00000777", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Firefox/140 (test)",
    )
    assert response.status_code == 302, response.content[:500]
    # accounts.passwords.password_changed: a service, called with no request.
    event = AuditEvent.objects.get(action=AuditAction.CHANGE, target=f"user:{world.lead_responder.pk}")
    assert (event.ip, event.request_id) == ("203.0.113.7", "edge-proxy-00000777")
    # The context lives as long as the request: nothing leaks into the next unit of work.
    assert current_audit_context() == EMPTY


def test_the_middleware_sets_id_address_and_user_agent():
    def view(request):
        context = current_audit_context()
        return JsonResponse({"id": context.request_id, "ip": context.ip, "ua": context.user_agent,
                             "origin": context.origin})

    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="edge-proxy-00000888", REMOTE_ADDR="198.51.100.4",
                                   HTTP_USER_AGENT="Mozilla/5.0 (test)")
    response = RequestIdMiddleware(AuditContextMiddleware(view))(request)
    assert json.loads(response.content) == {
        "id": "edge-proxy-00000888", "ip": "198.51.100.4", "ua": "Mozilla/5.0 (test)", "origin": "web",
    }
    assert current_audit_context() == EMPTY


def test_a_celery_task_records_a_task_context(db):
    result = record_from_task.apply(task_id="0b6c5cde-1111-4222-8333-944455556666")
    event = AuditEvent.objects.get(seq=result.get())
    assert event.request_id == "task:tests.audit.record_from_task:0b6c5cde-1111-4222-8333-944455556666"
    assert event.ip is None
    assert seen_in_task["context"].origin == "task"
    assert current_audit_context() == EMPTY


def test_a_task_run_inside_a_request_context_gets_its_own_and_gives_it_back(db):
    with audit_context(request_id="outer-request-0001", ip="10.1.2.3", origin="web"):
        record_from_task.apply(task_id="task-in-request-01")
        assert current_audit_context().request_id == "outer-request-0001"
    assert seen_in_task["context"].request_id == "task:tests.audit.record_from_task:task-in-request-01"


def test_a_command_context(db, world):
    with audit_context(command_audit_context("mfa_reset")):
        event = audit_record(actor=None, action=AuditAction.VIEW, target="command-test")
    assert event.request_id.startswith("command:mfa_reset:")
    assert event.ip is None


def test_a_management_command_runs_under_a_command_context(db, world):
    call_command("mfa_reset", "lead_responder", reason="ticket 42")
    event = AuditEvent.objects.filter(target=f"user:{world.lead_responder.pk}").latest("seq")
    assert event.request_id.startswith("command:mfa_reset:")


def test_long_names_are_clipped_to_the_column():
    assert len(task_audit_context("x" * 300, "id").request_id) == 100
    assert len(command_audit_context("y" * 300).request_id) == 100
