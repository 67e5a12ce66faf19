"""Writes to the audit trail. `audit_record` is the one way an event gets in."""

import ipaddress
import json
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, router, transaction
from django.utils import timezone

from .chain import GENESIS_HASH, event_hash
from .checkpoints import checkpoint_append
from .models import AuditAction, AuditEvent

logger = logging.getLogger("hopluc.audit")

# Key of the PostgreSQL advisory lock that serializes appends to the chain ("HLAUDIT" in ASCII).
CHAIN_LOCK_KEY = 0x484C4155444954

TARGET_MAX = AuditEvent._meta.get_field("target").max_length
CATEGORY_MAX = 50
REQUEST_ID_MAX = AuditEvent._meta.get_field("request_id").max_length


def audit_record(
    *,
    actor,
    action: str,
    case_id: int | None = None,
    agency_id: int | None = None,
    categories: Iterable[str] = (),
    reason: str = "",
    target: str = "",
    details: dict | None = None,
    request=None,
) -> AuditEvent:
    """Append one event to the chain and return it.

    Call it inside the transaction of the change or read it records, so that both commit or neither
    does; called outside one, it commits on its own. On PostgreSQL it holds the chain lock until that
    transaction ends, so every audited transaction in the installation queues behind it from here:
    call it as the last statement of the transaction, after the row locks it needs.

    `reason` is for events about accounts and agencies only: an event about a case (`case_id`) records
    what, who, when, which object and which categories, never text typed about the case.

    `actor` is a user, an AnonymousUser (a failed sign-in) or None (the system). Bad arguments raise
    ValueError: they are programming errors, not user input.
    """
    action = AuditAction(action).value
    if reason and case_id is not None:
        # The trail is append-only: text typed about a case could never be redacted or shredded.
        raise ValueError("an event about a case carries no free-text reason; point `target` at the sealed row")
    actor_id, actor_username = _actor_snapshot(actor)
    values = {
        "actor_id": actor_id,
        "actor_username": actor_username,
        "agency_id": _optional_int(agency_id, "agency_id"),
        "action": action,
        "case_id": _optional_int(case_id, "case_id"),
        "categories": _categories(categories),
        "target": _text(target, "target", TARGET_MAX),
        "ip": client_ip(request),
        "request_id": _text(getattr(request, "request_id", "") or "", "request_id", REQUEST_ID_MAX),
        "reason": _text(reason, "reason", None),
        # Stored exactly as it will be read back, so that the hash verifies later.
        "details": json.loads(json.dumps(details or {}, cls=DjangoJSONEncoder, allow_nan=False)),
    }
    if not isinstance(values["details"], dict):
        raise ValueError("details must be a dict")
    alias = router.db_for_write(AuditEvent)
    with transaction.atomic(using=alias, savepoint=False):
        connection = connections[alias]
        if connection.vendor == "postgresql":
            # A statement of its own: under READ COMMITTED the head read below then takes its
            # snapshot after the lock is granted, and so sees the previous writer's commit.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
        # On SQLite the transaction holds the write lock from BEGIN (transaction_mode IMMEDIATE in
        # settings), so the head read here is still the head at the insert. Were it not, a writer
        # that raced ahead would make the insert fail on the seq key, never fork the chain.
        head = AuditEvent.objects.using(alias).order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
        values["seq"] = seq
        values["at"] = timezone.now()
        digest = event_hash(values=values, prev_hash=prev_hash)
        return AuditEvent.objects.using(alias).create(prev_hash=prev_hash, hash=digest, **values)


def audit_checkpoint_write() -> dict | None:
    """Append the committed chain head to the checkpoint file; None when the chain is empty."""
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    if head is None:
        logger.info("audit checkpoint skipped: the chain is empty")
        return None
    seq, digest = head
    at = timezone.now()
    path = checkpoint_append(seq=seq, hash=digest, at=at)
    # The log line is a second copy, in whatever collects the logs.
    logger.info("audit checkpoint seq=%s hash=%s file=%s", seq, digest, path)
    return {"seq": seq, "hash": digest, "at": at.isoformat()}


def client_ip(request) -> str | None:
    """The client address: REMOTE_ADDR, or with AUDIT_TRUSTED_PROXIES = n reverse proxies in front,
    the address the outermost trusted proxy saw (n-th from the right of X-Forwarded-For)."""
    if request is None:
        return None
    meta = getattr(request, "META", {})
    candidate = meta.get("REMOTE_ADDR")
    proxies = getattr(settings, "AUDIT_TRUSTED_PROXIES", 0)
    if proxies:
        hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        # Hops left of the ones our proxies appended are whatever the client chose to send.
        candidate = hops[-proxies] if len(hops) >= proxies else None
    try:
        return str(ipaddress.ip_address(candidate)) if candidate else None
    except ValueError:
        return None


def _actor_snapshot(actor) -> tuple[int | None, str]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, ""
    return actor.pk, actor.get_username()


def _optional_int(value, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int or None, not {value!r}")
    return value


def _categories(categories: Iterable[str]) -> list[str]:
    if isinstance(categories, str):
        raise ValueError("categories must be a list of strings, not a string")
    categories = list(categories)
    for category in categories:
        if not isinstance(category, str) or not category or len(category) > CATEGORY_MAX:
            raise ValueError(f"bad category {category!r}")
    return sorted(set(categories))


def _text(value: str, name: str, max_length: int | None) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    if "\x00" in value:
        raise ValueError(f"{name} must not contain NUL characters")
    if max_length is not None and len(value) > max_length:
        raise ValueError(f"{name} is longer than {max_length} characters")
    return value
