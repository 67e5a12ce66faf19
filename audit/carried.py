"""An audited read's event sent with the read's next statement (issue 15).

A read of a case or a handoff writes its event before anything is shown. On PostgreSQL outside a
transaction that was an INSERT committed on its own: a statement, a round trip and a commit for the event
alone (0.38-0.49 ms of the web worker's CPU and about 0.26 ms of PostgreSQL's per read, measured at 20k
cases). The read runs more SELECTs anyway (the case's incidents, its timeline, the handoff's lines), so
`audit_record_read` has the next one carry the event as a data-modifying WITH query ahead of it:

    WITH audit_event AS (INSERT INTO "audit_auditevent" (...) VALUES (...) RETURNING "seq") SELECT ...

The row is the one audit_record writes (its values checked and prepared by the same code, its time taken
when the read is recorded). PostgreSQL runs a data-modifying WITH query once and to completion whether or
not the SELECT reads it, and outside a transaction the statement commits as one: psycopg hands back the
SELECT's rows only once the statement, event included, has committed, and a statement that fails commits
neither (the event then waits for the next). The SELECT does not see the new row (one snapshot), so a
statement that names the audit table carries nothing.

Only a plain SELECT carries it: the ORM's or a selector's (with parameters, so a literal % in it is
escaped), on the event's connection, outside any transaction, not through a server-side cursor (whose
query may not write). Any other statement goes out unchanged. The wrapper is the connection's first
(outermost: the others see the statement as sent); what Django logs and counts (connection.queries) is
the SELECT as the caller wrote it, one statement.

Only inside `audit_reads_carried`: the web request (audit.middleware.AuditContextMiddleware), which writes
whatever no statement carried, alone, when the view returns or raises and before the response leaves. So
no response shows a read without its event, and a read whose page fails later keeps its event, as when
it was written at once. Elsewhere (a task, a command, a test calling a service), on SQLite and inside a
transaction, audit_record_read is audit_record.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Unpack

from django.contrib.auth.models import AnonymousUser, User
from django.db import connections, router
from django.utils import timezone

from .models import AuditEvent
from .services import (
    ReadEventFields,
    _chain_on_commit,
    _event_values,
    _event_write,
    event_insert_params,
    event_insert_sql,
)

# The name of the WITH query; the SELECT that carries the event never reads it.
_WITH_NAME = "audit_event"
_AUDIT_TABLE = AuditEvent._meta.db_table


class _Carrier:
    """The events waiting on one connection for a statement to carry them; while there are any, an execute
    wrapper of that connection."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.waiting: list[dict] = []

    def add(self, values: dict) -> None:
        if not self.waiting:
            # First, not last: a `with connection.execute_wrapper()` ends by popping the last one, its own.
            connections[self.alias].execute_wrappers.insert(0, self)
        self.waiting.append(values)

    def __call__(self, execute, sql, params, many, context):
        if not self.waiting or not self._carries(sql, params, many, context):
            return execute(sql, params, many, context)
        waiting = self.waiting
        carried = [param for values in waiting for param in event_insert_params(self.alias, values)]
        # Names from the model only; every value is a parameter.
        with_event = f"WITH {_WITH_NAME} AS ({event_insert_sql(self.alias, len(waiting))}) {sql}"
        result = execute(with_event, [*carried, *params], many, context)
        # Committed with the SELECT (outside a transaction, one statement is one transaction).
        self._detach()
        _chain_on_commit(context["connection"], self.alias)
        return result

    def _carries(self, sql, params, many, context) -> bool:
        connection = context["connection"]
        return (
            not many and isinstance(params, list | tuple) and isinstance(sql, str) and sql.startswith("SELECT ")
            and _AUDIT_TABLE not in sql and not connection.in_atomic_block and connection.get_autocommit()
            # A server-side cursor (the ORM's iterator()) DECLAREs its query, which may not write.
            and getattr(context["cursor"].cursor, "name", None) is None
        )

    def _detach(self) -> None:
        self.waiting = []
        wrappers = connections[self.alias].execute_wrappers
        if self in wrappers:
            wrappers.remove(self)

    def write_alone(self) -> None:
        """Write what no statement carried, each event as audit_record writes it."""
        waiting = self.waiting
        self._detach()
        for values in waiting:
            _event_write(self.alias, values)


# The carriers of the current audit_reads_carried scope, by database alias; None outside one.
_carriers: ContextVar[dict[str, _Carrier] | None] = ContextVar("hopluc_audit_carriers", default=None)


@contextmanager
def audit_reads_carried() -> Iterator[None]:
    """A scope (the web request) in which audit_record_read's events may wait for a statement to carry
    them; whatever none carried is written alone when it ends, however it ends."""
    carriers: dict[str, _Carrier] = {}
    token = _carriers.set(carriers)
    try:
        yield
    finally:
        _carriers.reset(token)
        for carrier in carriers.values():
            carrier.write_alone()


def audit_record_read(*, actor: User | AnonymousUser | None, action: str, **fields: Unpack[ReadEventFields]) -> None:
    """audit_record's event for a read (its arguments, checked the same way, but no reason), sent with the
    next SELECT the request runs where it can (the module says when and why). Call it once the read
    is allowed and before anything of it is shown; it returns nothing, since the event may not be
    written yet."""
    values = _event_values(actor=actor, action=action, **fields)
    alias = router.db_for_write(AuditEvent)
    connection = connections[alias]
    carriers = _carriers.get()
    if (carriers is None or connection.vendor != "postgresql" or connection.in_atomic_block
            or not connection.get_autocommit()):
        _event_write(alias, values)
        return
    values["at"] = timezone.now()
    carrier = carriers.get(alias)
    if carrier is None:
        carrier = carriers[alias] = _Carrier(alias)
    carrier.add(values)
