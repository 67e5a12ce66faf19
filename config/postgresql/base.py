"""Django's PostgreSQL backend, with CONN_HEALTH_CHECKS sending no `SELECT 1` when the socket says the
connection is fine (ENGINE "config.postgresql", set by config.settings.base for postgres:// URLs).

With CONN_HEALTH_CHECKS Django sends `SELECT 1` on a reused connection before the first query of each
request (close_old_connections marks it unchecked at request_started), so that a connection the
server or a proxy closed while the worker was idle is replaced instead of failing that request. That
is a round trip and a statement for PostgreSQL on every request (benchmarks/health_check_cost.py:
about 60 us of the web process's CPU, 30 us of PostgreSQL's and 0.3 ms of wall time a request,
measured at load 12).

A connection closed from the other end is visible without asking: PostgreSQL ending a backend
(restart, failover, pg_terminate_backend, idle_session_timeout) sends its FATAL message and closes the
socket, a proxy or the kernel closes or resets it, and either makes the idle socket readable. So where
Django would check (the first use of a reused connection in a request), an idle connection whose
socket has nothing to read and no error is taken as checked; anything else (data waiting, a hang-up, an error, a
transaction left open, a broken libpq state) leaves Django's `SELECT 1` to run as before. What this no
longer catches is a connection lost without a word (a network path gone silent): the check's
`SELECT 1` would then wait for TCP's own timeout as the request's first query does.

It also reads `timestamptz` columns with psycopg's C loader where Django would use its Python one.
Django registers a loader of its own for them (psycopg_any.BaseTzLoader: psycopg's *Python* text parser,
then `replace(tzinfo=<the connection's time zone>)`), so every date and time read is parsed in Python:
about 4.5 us each, 156 of them on a page of the case list (measured at load 10: 50,000 rows of two values
in 2.28 s against 0.46 s with the C loader). With USE_TZ and the database's TIME_ZONE unset Django sets
the session's TimeZone to UTC and wants UTC datetimes (tzinfo datetime.timezone.utc), which is exactly what
psycopg's C loader gives in a UTC session; so on such a connection the C loader is registered instead
(UtcTimestamptzLoader). Any other time zone, or no C implementation, keeps Django's loader.
"""

import datetime
import select

from django.db.backends.postgresql import base
from psycopg.adapt import Loader
from psycopg.pq import ConnStatus, TransactionStatus

try:
    from psycopg_binary import _psycopg as _psycopg_c
except ImportError:  # pragma: no cover - psycopg without its C implementation (psycopg[binary] is pinned)
    _psycopg_c = None

_READY = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


def socket_quiet(raw) -> bool:
    """Whether the idle psycopg connection's socket has nothing to read and no error."""
    try:
        if raw.closed or raw.info.status != ConnStatus.OK or raw.info.transaction_status != TransactionStatus.IDLE:
            return False
        poller = select.poll()
        poller.register(raw.fileno(), _READY)
        return not poller.poll(0)
    except Exception:  # noqa: BLE001 - any doubt leaves Django's own check to run
        return False


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if (self.connection is not None and self.health_check_enabled and not self.health_check_done
                and not self.pool and socket_quiet(self.connection)):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if _psycopg_c is not None and self.timezone == datetime.UTC:
            connection.adapters.register_loader("timestamptz", UtcTimestamptzLoader)
        return connection


class UtcTimestamptzLoader(Loader):
    """A `timestamptz` in a UTC session, parsed by psycopg's C loader: an aware datetime in
    datetime.timezone.utc, as Django's loader gives. `timezone` is what Django's create_cursor compares with
    the connection's (when they differ it puts its own loader on the cursor, as before). psycopg's C loader
    cannot be subclassed; its bound `load` stands in for this class's on each instance (psycopg's C
    transformer takes `loader.load` once per column and calls it for each value)."""

    timezone = datetime.UTC

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self.load = _psycopg_c.TimestamptzLoader(oid, context).load  # type: ignore[method-assign,union-attr]

    def load(self, data):  # pragma: no cover - shadowed on every instance by the C loader's
        raise NotImplementedError
