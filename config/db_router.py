"""Read replica routing (issue 15, "distributed path"): opt-in, per call site, never for access.

Unset `REPLICA_DATABASE_URL` and there is no `replica` alias and no router: everything runs on
`default` as before. Set, the `replica` alias exists and `PrimaryReplicaRouter` is installed, but a
read still goes to the primary unless ALL of these hold:

- the code asked for it: it runs inside `replica_reads()` (the monthly report's counting, the
  supervision dashboard, review queue and access-log pages, after the view has decided on the
  primary which agency the user may supervise);
- the model is not one that decides access or holds secrets (`PRIMARY_ONLY`: sessions, users,
  memberships and analyst scopes, permission and access rows, consents, break-glass uses, case
  keys, tokens, lockouts, second factors, legal holds, breaches). A replica that lags could still
  show a withdrawn consent, an ended membership or a shredded key; those are read on the primary;
- no transaction of the application is open on the primary: a read inside `transaction.atomic()`
  decides a write and must see the primary's own rows (the test-case transaction does not count);
- the replica was reachable and no more than `REPLICA_MAX_LAG_SECONDS` behind when the block was
  entered (checked once per block); otherwise the whole block reads the primary.

Writes always go to the primary, and migrations run only there.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DatabaseError, connections

from .context import bound

logger = logging.getLogger(__name__)

REPLICA = "replica"
PRIMARY = "default"

# app_label or "app_label.modelname" (lower case): always read on the primary.
PRIMARY_ONLY = frozenset({
    "auth", "contenttypes", "sessions", "admin", "knox", "axes", "guardian", "otp_totp", "otp_static",
    "django_otp", "accounts", "permissions",
    "agencies.membership", "agencies.analystscope", "agencies.initialpassword", "agencies.accountrelease",
    "cases.caseaccessrow", "cases.casekey", "cases.consent", "permissions.breakglassuse",
    "privacy.legalhold", "privacy.breach",
})

_replica_wanted: contextvars.ContextVar[bool] = contextvars.ContextVar("replica_reads", default=False)

LAG_SQL = (
    "SELECT CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES and getattr(settings, "DATABASE_REPLICA_READS", False)


def replica_lag_seconds() -> float:
    """Seconds the replica is behind (0 when it has replayed all it received, or is not a standby)."""
    with connections[REPLICA].cursor() as cursor:
        if connections[REPLICA].vendor != "postgresql":
            return 0.0
        cursor.execute(LAG_SQL)
        return float(cursor.fetchone()[0])


def _replica_usable() -> bool:
    try:
        lag = replica_lag_seconds()
    except DatabaseError:
        logger.warning("Read replica unreachable: reading the primary", exc_info=True)
        connections[REPLICA].close()
        return False
    if lag > settings.REPLICA_MAX_LAG_SECONDS:
        logger.warning("Read replica %.1f s behind (limit %s s): reading the primary", lag,
                       settings.REPLICA_MAX_LAG_SECONDS)
        return False
    return True


@contextmanager
def replica_reads() -> Iterator[bool]:
    """Within this block, reads of models outside PRIMARY_ONLY may go to the replica. Yields whether
    they will (False when no replica is configured, it lags or cannot be reached)."""
    with bound(_replica_wanted, replica_configured() and _replica_usable()) as use:
        yield use


def primary_only(model) -> bool:
    meta = model._meta
    return meta.app_label in PRIMARY_ONLY or meta.label_lower in PRIMARY_ONLY


def in_application_transaction(alias: str = PRIMARY) -> bool:
    return any(not getattr(block, "_from_testcase", False) for block in connections[alias].atomic_blocks)


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        if not _replica_wanted.get() or primary_only(model) or in_application_transaction():
            return PRIMARY
        return REPLICA

    def db_for_write(self, model, **hints) -> str:
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # Both aliases hold the same data.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints) -> bool:
        return db == PRIMARY
