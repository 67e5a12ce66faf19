"""Writes to the audit trail. `audit_record` is the one way an event gets in."""

import json
import logging
import threading
import time
from collections.abc import Iterable
from typing import TypedDict

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, router, transaction
from django.db.models import Count, Min
from django.utils import timezone

from config.broker import KeptConnection, bounded_connection
from config.inserts import insert_params, inserted_fields

from .chain import GENESIS_HASH, event_hash, stored_event_hash
from .checkpoints import checkpoint_append
from .context import current_audit_context
from .models import AuditAction, AuditEvent

logger = logging.getLogger("hopluc.audit")

# Key of the PostgreSQL advisory lock that serializes appends to the chain ("HLAUDIT" in ASCII).
CHAIN_LOCK_KEY = 0x484C4155444954

TARGET_MAX = AuditEvent._meta.get_field("target").max_length
CATEGORY_MAX = 50
REQUEST_ID_MAX = AuditEvent._meta.get_field("request_id").max_length

# The kinds of `target` ("user:12" is of kind "user") whose events may carry a typed reason: staff-side
# decisions about accounts (an account released to an agency, a second factor reset) and the agencies'
# set-up (the groups repaired). Every other event carries none, whether or not it names a case: a
# reason typed about a meeting or its minutes names survivors as surely as one typed about a case, and
# the trail is append-only, so it could never be shredded. A new kind is added here only for text that
# is never about a survivor.
REASON_TARGET_KINDS = frozenset({"user", "agency_groups"})


def audit_record(
    *,
    actor: User | AnonymousUser | None,
    action: str,
    case_id: int | None = None,
    agency_id: int | None = None,
    categories: Iterable[str] = (),
    reason: str = "",
    target: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """Append one event to the trail and return it.

    Call it inside the transaction of the change or read it records, so that both commit or neither
    does; called outside one, it commits on its own. It takes no lock: on PostgreSQL the event gets its
    seq from the table's sequence and is chained (position, prev_hash, hash) after the transaction
    commits, by audit_chain_pending in a worker that the commit signals (audit_chain_soon), so the
    returned event has no chain fields yet. On SQLite, where
    the transaction holds the only write lock anyway, it is chained at once.

    `reason` is for events about accounts and the agencies' set-up only (a `target` of a kind in
    REASON_TARGET_KINDS, and no `case_id`): an event about a case, or about anything that holds text typed
    about cases (a meeting, its minutes), records what, who, when, which object and which categories,
    never text typed about the case.

    `actor` is a user, an AnonymousUser (a failed sign-in) or None (the system). Bad arguments raise
    ValueError: they are programming errors, not user input.

    The request id and client address come from the audit context (audit.context), which the edge
    sets: the web request's, a task's or a command's.
    """
    values = _event_values(actor=actor, action=action, case_id=case_id, agency_id=agency_id, categories=categories,
                           reason=reason, target=target, details=details)
    return _event_write(router.db_for_write(AuditEvent), values)


class ReadEventFields(TypedDict, total=False):
    """What an event of a read names besides who read and how (audit_record's other keywords but `reason`):
    audit.carried.audit_record_read takes these."""

    case_id: int | None
    agency_id: int | None
    categories: Iterable[str]
    target: str
    details: dict | None


def _event_values(*, actor: User | AnonymousUser | None, action: str, case_id: int | None = None,
                  agency_id: int | None = None, categories: Iterable[str] = (), reason: str = "", target: str = "",
                  details: dict | None = None) -> dict:
    """The columns of audit_record's event but its time and the chain's: checked (ValueError) and as stored."""
    action = AuditAction(action).value
    if reason and case_id is not None:
        # The trail is append-only: text typed about a case could never be redacted or shredded.
        raise ValueError("an event about a case carries no free-text reason; point `target` at the sealed row")
    if reason and (target.partition(":")[0] if isinstance(target, str) else None) not in REASON_TARGET_KINDS:
        raise ValueError(f"an event about {target or 'nothing named'} carries no free-text reason "
                         f"(only {sorted(REASON_TARGET_KINDS)}); point `target` at the sealed row")
    actor_id, actor_username = _actor_snapshot(actor)
    context = current_audit_context()
    values = {
        "actor_id": actor_id,
        "actor_username": actor_username,
        "agency_id": _optional_int(agency_id, "agency_id"),
        "action": action,
        "case_id": _optional_int(case_id, "case_id"),
        "categories": _categories(categories),
        "target": _text(target, "target", TARGET_MAX),
        "ip": context.ip,
        "request_id": _text(context.request_id, "request_id", REQUEST_ID_MAX),
        "reason": _text(reason, "reason", None),
        # Stored exactly as it will be read back, so that the hash verifies later.
        "details": json.loads(json.dumps(details or {}, cls=DjangoJSONEncoder, allow_nan=False)),
    }
    if not isinstance(values["details"], dict):
        raise ValueError("details must be a dict")
    return values


def _event_write(alias: str, values: dict) -> AuditEvent:
    """Write the event of `values` (_event_values; its time now unless `values` has one) as audit_record
    describes, and return it."""
    connection = connections[alias]
    if connection.vendor == "postgresql" and not connection.in_atomic_block and connection.get_autocommit():
        # Called outside a transaction: the one INSERT commits on its own (no BEGIN and COMMIT around it),
        # and the worker is signalled at once (audit_chain_soon).
        values.setdefault("at", timezone.now())
        event = _event_insert(alias, values)
        _chain_on_commit(connection, alias)
        return event
    with transaction.atomic(using=alias, savepoint=False):
        values.setdefault("at", timezone.now())
        # Unchained: seq comes from the table's sequence, so concurrent writers do not wait for each other.
        event = _event_insert(alias, values)
        if connection.vendor == "postgresql":
            _chain_on_commit(connection, alias)
        else:
            # SQLite has one writer at a time (the transaction holds the write lock from BEGIN:
            # transaction_mode IMMEDIATE), so chaining at once costs no waiting: chain it here.
            head = _chain_head(alias)
            position, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
            digest = event_hash(values={**values, "seq": event.seq}, prev_hash=prev_hash)
            AuditEvent.objects.using(alias).filter(seq=event.seq).update(
                position=position, prev_hash=prev_hash, hash=digest,
            )
            event.position, event.prev_hash, event.hash = position, prev_hash, digest
        return event


# What an event's INSERT writes: every column but seq, which the table's sequence gives.
_INSERTED_FIELDS = inserted_fields(AuditEvent)
# A concrete field always has its column.
_INSERTED_COLUMNS = tuple(field.column for field in _INSERTED_FIELDS if field.column)
_SEQ_COLUMN = AuditEvent._meta.pk.column or "seq"
_INSERT_SQL: dict[tuple[str, int], str] = {}


def _event_insert(alias: str, values: dict) -> AuditEvent:
    """INSERT one event and return it, seq set. On PostgreSQL the statement is written once per process
    (the ORM's create built and compiled the same INSERT anew for every event: 0.74 ms of CPU per event
    against 0.55 ms so, measured at 20k cases, load 14) and each value is prepared as the ORM's INSERT
    prepares it (config.inserts); elsewhere the ORM's create."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return AuditEvent.objects.using(alias).create(**values)
    event = AuditEvent(**values)
    with connection.cursor() as cursor:
        cursor.execute(event_insert_sql(alias), insert_params(event, _INSERTED_FIELDS, connection))
        (event.seq,) = cursor.fetchone()
    event._state.adding, event._state.db = False, alias
    return event


def event_insert_sql(alias: str, rows: int = 1) -> str:
    """PostgreSQL's INSERT of `rows` events (event_insert_params of each, in order), returning their seq:
    written once per process and number of rows."""
    sql = _INSERT_SQL.get((alias, rows))
    if sql is None:
        quote = connections[alias].ops.quote_name
        table, columns = quote(AuditEvent._meta.db_table), ", ".join(quote(column) for column in _INSERTED_COLUMNS)
        slots, seq = ", ".join([f"({', '.join(['%s'] * len(_INSERTED_COLUMNS))})"] * rows), quote(_SEQ_COLUMN)
        # Names from the model only; every value is a parameter.
        sql = _INSERT_SQL[alias, rows] = f"INSERT INTO {table} ({columns}) VALUES {slots} RETURNING {seq}"  # noqa: S608
    return sql


def event_insert_params(alias: str, values: dict) -> list:
    """The parameters of one event (_event_values with its time) in event_insert_sql, prepared as the
    ORM's INSERT prepares them."""
    return insert_params(AuditEvent(**values), _INSERTED_FIELDS, connections[alias])


def audit_chain_pending(
    *, wait: bool = True, durable: bool = True, batch_size: int = 1000, using: str | None = None,
) -> int:
    """Chain the committed events that are not chained yet, in the order this chainer finds them
    (insert order among those committed), in batches of `batch_size`, each batch one transaction under
    the chain lock. Returns how many it chained. With wait=False it gives up at once (returns what it
    did so far) when another chainer holds the lock: that one is chaining.

    durable=False (the worker's chaining after commits, audit.tasks.chain_now) commits without waiting for the disk
    (PostgreSQL synchronous_commit off): a crash may lose the chain fields of the last moments, never
    an event, and those events are chained again. Anything that publishes the head (an anchor) chains
    with durable=True, which also flushes every earlier such commit before the head is read."""
    alias = using or router.db_for_write(AuditEvent)
    connection = connections[alias]
    total = 0
    while True:
        with transaction.atomic(using=alias):
            if connection.vendor == "postgresql":
                # A statement of its own: under READ COMMITTED the reads below then take their snapshot
                # after the lock is granted, and so see everything the previous chainer committed.
                # durable: an id makes this commit wait for the disk, and with it every commit before
                # it. Otherwise this transaction's commit does not wait (set_config local = SET LOCAL).
                after = "txid_current()" if durable else "set_config('synchronous_commit', 'off', true)"
                lock = "pg_advisory_xact_lock(%s) IS NULL" if wait else "pg_try_advisory_xact_lock(%s)"
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT {lock}, {after}", [CHAIN_LOCK_KEY])
                    if not wait and not cursor.fetchone()[0]:
                        return total
            done = _chain_batch(alias, batch_size)
        total += done
        if done < batch_size:
            return total


def audit_chain_head_durable(*, using: str | None = None) -> tuple[int, str] | None:
    """Chain what is waiting, then return the head (position, hash) once it is on disk: the head an
    anchor may name. On PostgreSQL the head is read under the chain lock, in a transaction whose
    commit waits for the disk, so no chaining committed without waiting (durable=False) is named
    before it is safe."""
    alias = using or router.db_for_write(AuditEvent)
    audit_chain_pending(using=alias)
    connection = connections[alias]
    with transaction.atomic(using=alias):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
                cursor.execute("SELECT txid_current()")
        head = _chain_head(alias)
    return head


def audit_chain_unchained(*, using: str | None = None):
    """Events waiting for the chainer: (how many, the time of the oldest)."""
    alias = using or router.db_for_read(AuditEvent)
    found = AuditEvent.objects.using(alias).filter(position__isnull=True).aggregate(n=Count("seq"), oldest=Min("at"))
    return found["n"], found["oldest"]


def _chain_head(alias: str):
    return (
        AuditEvent.objects.using(alias).filter(position__isnull=False).order_by("-position")
        .values_list("position", "hash").first()
    )


def _chain_batch(alias: str, batch_size: int) -> int:
    head = _chain_head(alias)
    position, prev_hash = (head[0], head[1]) if head else (0, GENESIS_HASH)
    events = list(AuditEvent.objects.using(alias).filter(position__isnull=True).order_by("seq")[:batch_size])
    for event in events:
        position += 1
        event.position, event.prev_hash = position, prev_hash
        # Hashed as stored: what verification will read back.
        event.hash = prev_hash = stored_event_hash(event)
    if events:
        AuditEvent.objects.using(alias).bulk_update(events, ["position", "prev_hash", "hash"],
                                                    batch_size=min(batch_size, CHAIN_UPDATE_ROWS))
    return len(events)


# Rows per UPDATE statement of the chainer. bulk_update writes one CASE per column with a branch per
# row; on the table partitioned by month (audit/partitions.py) a statement's cost grows much faster than
# its rows: measured at 20,000 cases, 29 partitions, load average 15-22: 1,000 rows in one statement
# 58-77 s, 500 rows 1.2 s, 200 rows 0.4-0.6 s; 1,000 events in statements of 200: 6.1 s (the
# unpartitioned table: 1,000 rows in one statement 2.3 s).
CHAIN_UPDATE_ROWS = 200


# The task a worker runs to chain what is waiting (audit.tasks.chain_now), sent by name: that module
# imports this one.
CHAIN_NOW_TASK = "audit.tasks.chain_now"

_CHAINERS: dict = {}


def _chain_on_commit(connection, alias: str) -> None:
    """Once per transaction: after it commits, have the events chained soon (audit_chain_soon)."""
    chainer = _CHAINERS.get(alias)
    if chainer is None:
        def chainer():
            audit_chain_soon(using=alias)
        _CHAINERS[alias] = chainer
    if any(entry[1] is chainer for entry in connection.run_on_commit):
        return
    # robust: a failure is logged and never reaches the request; the beat task chains what is left.
    transaction.on_commit(chainer, using=alias, robust=True)


class _ChainTaskSchedule:
    """When this process's latest "chain now" task is due (time.time()); guarded by `lock`."""

    lock = threading.Lock()
    due = 0.0


def audit_chain_soon(*, using: str | None = None) -> bool:
    """After a commit that left an event unchained: make sure a worker chains it within about
    AUDIT_CHAIN_SOON_SECONDS, without any statement on this connection. Returns whether a task was sent.

    One publish (audit.tasks.chain_now on AUDIT_CHAIN_QUEUE) covers every commit before the time it is
    due, so a process publishes at most once per AUDIT_CHAIN_SOON_SECONDS: the first commit after a quiet
    spell sends a task due at once; a commit while that is on its way sends none unless the task is
    already due, and then sends one due a full interval after it. Each commit therefore has a task due
    after it, within one interval.

    Never raises: when the broker cannot take the task (down, slow beyond AUDIT_CHAIN_PUBLISH_TIMEOUT)
    it is logged, the next commit tries again, and beat (audit.tasks.chain_pending) chains the events.
    With CELERY_TASK_ALWAYS_EAGER (no worker) the events are chained here, at once."""
    from config.celery import app

    alias = using or router.db_for_write(AuditEvent)
    if app.conf.task_always_eager:
        audit_chain_pending(wait=False, durable=False, using=alias)
        return False
    interval = settings.AUDIT_CHAIN_SOON_SECONDS
    schedule = _ChainTaskSchedule
    with schedule.lock:
        now = time.time()
        if now < schedule.due:
            return False
        previous, due = schedule.due, max(now, schedule.due + interval)
        schedule.due = due
    if _chain_task_send(app, alias=alias, countdown=due - now):
        return True
    with schedule.lock:
        if schedule.due == due:
            schedule.due = previous
    return False


# This thread's connection to the broker for chain-now tasks, kept between publishes.
_publisher = KeptConnection()


def _chain_task_send(app, *, alias: str, countdown: float) -> bool:
    """Send one chain-now task due in `countdown` seconds over the thread's kept connection (a new one
    when there is none, or when the kept one fails: once). Never raises: a failure is logged."""
    timeout = settings.AUDIT_CHAIN_PUBLISH_TIMEOUT
    key = (app.conf.broker_url, timeout)
    connection = _publisher.take(key)
    # A kept connection that fails (the broker restarted) is dropped and the task goes over a new one,
    # once: a broker that is down costs the request at most one bounded connect, as before.
    attempts = 2 if connection is not None else 1
    error: Exception | None = None
    for _attempt in range(attempts):
        if connection is None:
            connection = bounded_connection(app, timeout=timeout)
            _publisher.keep(key, connection)
        try:
            app.send_task(
                CHAIN_NOW_TASK, kwargs={"using": alias}, queue=settings.AUDIT_CHAIN_QUEUE,
                # A task the worker gets later than beat's next round is dropped: beat chained its events.
                countdown=countdown, expires=countdown + settings.AUDIT_CHAIN_INTERVAL_SECONDS,
                retry=False, connection=connection, ignore_result=True,
            )
            return True
        except Exception as exc:  # noqa: BLE001 - the request must not fail: beat chains what is left
            _publisher.drop()
            connection, error = None, exc
    logger.warning("audit: the chain-now task could not be sent; beat chains the waiting events: %s", error)
    return False


def audit_checkpoint_write(*, why: str = "schedule") -> dict | None:
    """Append a signed anchor of the committed chain head to the checkpoint file; None when the chain
    is empty. `why` says what asked for it (schedule, report, command)."""
    head = audit_chain_head_durable()
    if head is None:
        logger.info("audit checkpoint skipped: the chain is empty")
        return None
    seq, digest = head
    anchor = checkpoint_append(seq=seq, hash=digest, at=timezone.now(), why=why)
    # The log line is a second copy, in whatever collects the logs.
    logger.info("audit anchor n=%s seq=%s hash=%s why=%s file=%s", anchor["n"], seq, digest, why, anchor["file"])
    return {name: anchor[name] for name in ("n", "seq", "hash", "at", "why")}


def audit_checkpoint_write_safely(*, why: str) -> dict | None:
    """An anchor written beside another act (a report's publication) that must not fail because of it."""
    try:
        return audit_checkpoint_write(why=why)
    except Exception:  # noqa: BLE001 - logged; the next scheduled anchor covers the head
        logger.exception("audit anchor (%s) could not be written", why)
        return None


def _actor_snapshot(actor: User | AnonymousUser | None) -> tuple[int | None, str]:
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
