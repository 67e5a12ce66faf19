from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import ProtectedError
from django.test import RequestFactory

from audit.chain import GENESIS_HASH, stored_event_hash
from audit.context import audit_context, request_audit_context
from audit.models import AuditEvent
from audit.services import audit_record

from .conftest import chained


def test_events_chain_from_genesis(db):
    first, second = chained(
        audit_record(actor=None, action="create", case_id=7, target="case:7"),
        audit_record(actor=None, action="view", case_id=7, target="case:7"),
    )
    assert (first.position, first.prev_hash) == (1, GENESIS_HASH)
    assert (second.position, second.prev_hash) == (2, first.hash)
    assert second.seq > first.seq
    assert len(first.hash) == 64 and first.hash != second.hash


def test_stored_event_hashes_the_same_after_a_round_trip(db, world):
    request = RequestFactory().get("/", REMOTE_ADDR="2001:DB8:0:0:0:0:0:1")
    request.request_id = "req-12345678"
    with audit_context(request_audit_context(request)):
        event = audit_record(
            actor=world.lead_responder, action="share", case_id=12, agency_id=world.police.pk,
            categories=["medical", "identity", "medical"], target="handoff:4",
            details={"to": world.health.pk, "nested": {"b": [1, 2.5, None], "a": "Hà Nội"},
                     "when": datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)},
        )
    [stored] = chained(AuditEvent.objects.get(seq=event.seq))
    assert stored.categories == ["identity", "medical"]
    assert stored.details["when"] == "2026-01-02T03:04:05.000Z"
    assert stored.ip in ("2001:db8::1", "2001:DB8::1")
    assert stored.request_id == "req-12345678"
    assert stored_event_hash(stored) == stored.hash
    if event.hash is not None:  # SQLite chains at once, hashing what it inserted
        assert event.hash == stored.hash


def test_an_event_about_a_case_carries_no_free_text(db, world):
    # Text typed about a case lives sealed in its row; the append-only trail could never shred it.
    with pytest.raises(ValueError, match="free-text"):
        audit_record(actor=None, action="change", case_id=12, target="handoff:4", reason="Chuyển tuyến khẩn cấp")
    assert not AuditEvent.objects.exists()
    # About an account, a reason is still recorded (non-case text, e.g. a second-factor reset).
    assert audit_record(actor=None, action="revoke", target="user:3", reason="Mất điện thoại").reason


@pytest.mark.parametrize("target", ["meeting_minutes:7", "case_meeting:3", "plan_item:2", ""])
def test_an_event_about_case_content_without_a_case_id_carries_no_free_text(db, target):
    # A meeting's minutes name no case in the event, but what is typed about them names survivors (F2).
    with pytest.raises(ValueError, match="free-text"):
        audit_record(actor=None, action="create", target=target, reason="Ghi nhầm tên chị Hoa")
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("target", ["user:3", "agency_groups"])
def test_staff_side_reasons_are_still_recorded(db, target):
    # An account released to an agency, a second factor reset, the agency groups repaired.
    assert audit_record(actor=None, action="change", target=target, reason="Mất điện thoại").reason


def test_actor_snapshots(db, world):
    user_event = audit_record(actor=world.lead_supervisor, action="view")
    anonymous_event = audit_record(actor=AnonymousUser(), action="login_failed")
    system_event = audit_record(actor=None, action="export")
    assert (user_event.actor_id, user_event.actor_username) == (world.lead_supervisor.pk, "lead_supervisor")
    assert (anonymous_event.actor_id, anonymous_event.actor_username) == (None, "")
    assert (system_event.actor_id, system_event.actor_username) == (None, "")


def test_event_rolls_back_with_the_callers_transaction(db):
    audit_record(actor=None, action="view")
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=None, action="change", case_id=1)
        raise RuntimeError("the change failed")
    [after] = chained(audit_record(actor=None, action="view"))
    assert list(AuditEvent.objects.order_by("position").values_list("position", "action")) == [(1, "view"), (2, "view")]
    assert after.prev_hash == AuditEvent.objects.get(position=1).hash


def test_query_budget_inside_a_transaction(db, django_assert_num_queries):
    from django.db import connection

    audit_record(actor=None, action="view")
    # PostgreSQL: the insert only (no lock: chained after commit). SQLite: insert, head, chain fields.
    with transaction.atomic(), django_assert_num_queries(1 if connection.vendor == "postgresql" else 3):
        audit_record(actor=None, action="view")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"action": "peek"},
        {"action": "view", "case_id": "12"},
        {"action": "view", "agency_id": True},
        {"action": "view", "categories": "medical"},
        {"action": "view", "categories": ["medical", 3]},
        {"action": "view", "categories": [""]},
        {"action": "view", "target": "x" * 201},
        {"action": "view", "reason": "nul\x00byte"},
        {"action": "view", "details": ["not", "a", "dict"]},
        {"action": "view", "details": {"ratio": float("nan")}},
    ],
)
def test_bad_arguments_are_refused_and_nothing_is_written(db, kwargs):
    with pytest.raises(ValueError):
        audit_record(actor=None, **kwargs)
    assert not AuditEvent.objects.exists()


def _recorded_from(request):
    with audit_context(request_audit_context(request)):
        return audit_record(actor=None, action="view")


def test_client_address_and_proxies(db, settings):
    factory = RequestFactory()
    direct = factory.get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert _recorded_from(direct).ip == "10.0.0.9"

    settings.AUDIT_TRUSTED_PROXIES = 1
    proxied = factory.get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    assert _recorded_from(proxied).ip == "203.0.113.5"
    no_header = factory.get("/", REMOTE_ADDR="10.0.0.9")
    assert _recorded_from(no_header).ip is None
    garbage = factory.get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="not-an-address")
    assert _recorded_from(garbage).ip is None


def test_actors_with_a_history_cannot_be_deleted(db, world):
    audit_record(actor=world.receiving_responder, action="view", case_id=3)
    with pytest.raises(ProtectedError):
        world.receiving_responder.delete()
