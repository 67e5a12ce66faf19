from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from audit.selectors import audit_chain_head, audit_event_list, audit_events_for_case
from audit.services import audit_record

from .conftest import chained


@pytest.fixture
def events(world):
    r, s = world.lead_responder, world.receiving_supervisor
    return [
        audit_record(actor=r, action="create", case_id=1, agency_id=world.police.pk, categories=["identity"]),
        audit_record(actor=s, action="view", case_id=1, agency_id=world.health.pk, categories=["medical"]),
        audit_record(actor=r, action="view", case_id=2, agency_id=world.police.pk, categories=["identity", "legal"]),
        audit_record(actor=s, action="export", case_id=1, agency_id=world.health.pk, categories=[]),
        audit_record(actor=None, action="login_failed"),
    ]


def seqs(qs):
    """Numbers 1 to 5 for the fixture's events (their seq comes from a sequence that other tests moved on)."""
    first = AuditEvent.objects.order_by("seq").values_list("seq", flat=True).first() or 1
    return [e.seq - first + 1 for e in qs]


def test_events_for_case_are_that_case_only_oldest_first(events):
    assert seqs(audit_events_for_case(case_id=1)) == [1, 2, 4]
    assert seqs(audit_events_for_case(case_id=99)) == []


def test_filters(events, world):
    assert seqs(audit_event_list()) == [5, 4, 3, 2, 1]
    assert seqs(audit_event_list(actor=world.receiving_supervisor)) == [4, 2]
    assert seqs(audit_event_list(actions=[AuditAction.VIEW, AuditAction.EXPORT])) == [4, 3, 2]
    assert seqs(audit_event_list(categories=["legal"])) == [3]
    assert seqs(audit_event_list(categories=["medical", "identity"])) == [3, 2, 1]
    assert seqs(audit_event_list(case_id=1, categories=["identity"])) == [1]
    assert seqs(audit_event_list(agency_id=world.health.pk, case_id=1)) == [4, 2]


def test_period_is_half_open(events):
    second = events[1]
    assert seqs(audit_event_list(since=second.at, until=events[3].at)) == [3, 2]
    assert seqs(audit_event_list(since=timezone.now() + timedelta(minutes=1))) == []


def test_head(db):
    assert audit_chain_head() is None
    [event] = chained(audit_record(actor=None, action="view"))
    assert audit_chain_head() == (1, event.hash)
