"""A read's audit event sent with the request's next SELECT (audit.carried): the row audit_record writes,
committed by that SELECT (one statement fewer per audited read on PostgreSQL), written alone when nothing
carries it, and none for a refused read."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from agencies.models import Agency
from audit.carried import audit_reads_carried, audit_record_read
from audit.context import audit_context, request_audit_context
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import audit_chain_pending, audit_record
from tests.cases.conftest import case_build, time_limits  # noqa: F401 (fixture)
from tests.handoffs.conftest import consented_case
from tests.handoffs.test_pages import send

pytestmark = pytest.mark.django_db(transaction=True)
postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL writes the event with a SELECT")

AUDIT_INSERT = f'INSERT INTO "{AuditEvent._meta.db_table}"'
# Every column the chain does not fill, seq apart.
CONTENT = [field.attname for field in AuditEvent._meta.concrete_fields
           if field.name not in ("seq", "position", "prev_hash", "hash")]


def _content(event: AuditEvent) -> dict:
    return {column: getattr(event, column) for column in CONTENT}


def _select() -> None:
    """A statement as a read's next one: the ORM's SELECT of a table that is not the audit trail's."""
    Agency.objects.filter(pk=0).exists()


def _sent(statements: list[str]):
    """An execute wrapper that keeps each statement as sent to PostgreSQL (after audit.carried's)."""

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    return record


@postgresql
def test_the_carried_event_is_the_row_audit_record_writes_and_chains(world):
    request = RequestFactory().get("/", REMOTE_ADDR="2001:DB8:0:0:0:0:0:1")
    request.request_id = "req-carried-1"
    event = {"actor": world.lead_responder, "action": "view", "case_id": 12, "agency_id": world.police.pk,
             "categories": ["medical", "identity", "medical"], "target": "case:12",
             "details": {"nested": {"b": [1, 2.5, None], "a": "Hà Nội"},
                         "when": datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)}}
    sent: list[str] = []
    with time_machine.travel(datetime(2026, 12, 6, 23, 0, tzinfo=UTC), tick=False), \
            audit_context(request_audit_context(request)):
        written = audit_record(**event)
        with audit_reads_carried():
            audit_record_read(**event)
            with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(_sent(sent)):
                _select()
            # Written by that SELECT, not at the end of the scope.
            [carried] = AuditEvent.objects.exclude(seq=written.seq)
    assert len(queries) == 1 and not queries[0]["sql"].startswith("WITH")
    assert sent[0].startswith(f"WITH audit_event AS ({AUDIT_INSERT}")
    assert _content(carried) == _content(AuditEvent.objects.get(seq=written.seq))
    assert carried.seq > written.seq
    audit_chain_pending()
    report = audit_chain_verify()
    assert report.intact and report.events == 2


@postgresql
def test_an_event_nothing_carried_is_written_alone_when_the_scope_ends_however_it_ends(world):
    wrappers = list(connection.execute_wrappers)
    with pytest.raises(RuntimeError), audit_reads_carried():
        audit_record_read(actor=world.lead_responder, action="view", case_id=3, target="case:3")
        assert not AuditEvent.objects.exists()
        raise RuntimeError("the page failed after the read")
    [event] = AuditEvent.objects.all()
    assert (event.action, event.case_id, event.actor_id) == ("view", 3, world.lead_responder.pk)
    assert connection.execute_wrappers == wrappers


@postgresql
def test_only_a_select_outside_a_transaction_that_leaves_the_audit_table_alone_carries_it(world):
    with audit_reads_carried():
        audit_record_read(actor=world.lead_responder, action="view", case_id=4, target="case:4")
        with transaction.atomic():
            _select()
        # A statement that reads the trail would not see the event it carried: it carries none.
        assert not AuditEvent.objects.exists()
        with connection.cursor() as cursor:
            cursor.execute("UPDATE agencies_agency SET name = name WHERE id = %s", [0])
        assert not AuditEvent.objects.exists()
        _select()
        assert AuditEvent.objects.count() == 1
    assert AuditEvent.objects.count() == 1


@postgresql
def test_a_failed_select_leaves_the_event_for_the_next(world):
    with audit_reads_carried():
        audit_record_read(actor=world.lead_responder, action="view", case_id=5, target="case:5")
        with pytest.raises(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT 1 / %s", [0])
        assert not AuditEvent.objects.exists()
        _select()
        assert AuditEvent.objects.count() == 1


def test_outside_a_request_the_read_is_recorded_at_once(world):
    audit_record_read(actor=world.lead_responder, action="view", case_id=6, target="case:6")
    assert AuditEvent.objects.filter(case_id=6, action="view").count() == 1


# --- Through the requests that read --------------------------------------------------------------


def _views(case_id: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="view", case_id=case_id))


def _get(client, url: str):
    """GET `url`: the response and the statements Django counted."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("url", ["/api/cases/{}/", "/cases/{}/"])
def test_a_case_read_writes_its_event_with_a_statement_of_the_read(world, web, url, time_limits):  # noqa: F811
    case = case_build(world)
    response, statements = _get(web(world.lead_responder), url.format(case.pk))
    assert response.status_code == 200
    [event] = _views(case.pk)
    assert (event.actor_id, event.target) == (world.lead_responder.pk, f"case:{case.pk}")
    # Not an INSERT of its own (nor, on SQLite, one in a transaction of its own: that is unchanged).
    assert any(sql.startswith(AUDIT_INSERT) for sql in statements) == (connection.vendor != "postgresql")
    audit_chain_pending()
    assert audit_chain_verify().intact


def test_a_handoff_read_writes_its_event_with_a_statement_of_the_read(world, web, time_limits):  # noqa: F811
    handoff = send(world, consented_case(world))
    response, statements = _get(web(world.lead_responder), f"/handoffs/{handoff.pk}/")
    assert response.status_code == 200
    [event] = AuditEvent.objects.filter(action="view", target=f"handoff:{handoff.pk}")
    assert event.actor_id == world.lead_responder.pk
    assert any(sql.startswith(AUDIT_INSERT) for sql in statements) == (connection.vendor != "postgresql")


@pytest.mark.parametrize("url", ["/api/cases/{}/", "/cases/{}/"])
def test_a_refused_case_read_writes_no_event(world, web, url, time_limits):  # noqa: F811
    case = case_build(world)
    response = web(world.outsider_responder).get(url.format(case.pk))
    assert response.status_code == 404
    assert _views(case.pk) == []


def test_a_refused_handoff_read_writes_no_event(world, web, time_limits):  # noqa: F811
    handoff = send(world, consented_case(world))
    assert web(world.outsider_responder).get(f"/handoffs/{handoff.pk}/").status_code == 404
    assert not AuditEvent.objects.filter(action="view", target=f"handoff:{handoff.pk}").exists()
