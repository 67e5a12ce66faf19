"""CONN_HEALTH_CHECKS on PostgreSQL (config.postgresql): a reused connection whose socket is quiet is
not asked `SELECT 1` before a request's first query; one the server ended while it sat idle is still
found out and replaced before the request uses it."""

import select
import time

import psycopg
import pytest
from django.core.signals import request_finished, request_started
from django.db import DEFAULT_DB_ALIAS, connections

pytestmark = pytest.mark.skipif(connections[DEFAULT_DB_ALIAS].vendor != "postgresql",
                                reason="the health check is on for PostgreSQL only")


def _first_query_of_a_request(connection) -> int:
    """What a web request does to its connection: request_started, then a query; the backend's pid."""
    request_started.send(sender=None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    request_finished.send(sender=None)
    return pid


@pytest.fixture
def checks(monkeypatch):
    connection = connections[DEFAULT_DB_ALIAS]
    connection.ensure_connection()
    assert connection.health_check_enabled and connection.settings_dict["ENGINE"] == "config.postgresql"
    calls = []
    is_usable = connection.is_usable

    def counted():
        calls.append(time.monotonic())
        return is_usable()

    monkeypatch.setattr(connection, "is_usable", counted)
    return connection, calls


def test_a_quiet_reused_connection_is_not_asked_select_1(transactional_db, checks):
    connection, calls = checks
    pid = _first_query_of_a_request(connection)
    for _ in range(3):
        assert _first_query_of_a_request(connection) == pid  # the same connection, reused
    assert calls == []


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(transactional_db, checks):
    connection, calls = checks
    pid = _first_query_of_a_request(connection)
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k not in ("cursor_factory", "context")},
                         autocommit=True) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
    # The server's FATAL message and hang-up reach the idle socket.
    poller = select.poll()
    poller.register(connection.connection.fileno(), select.POLLIN | select.POLLHUP)
    assert poller.poll(5000)
    new_pid = _first_query_of_a_request(connection)
    assert new_pid != pid
    assert len(calls) == 1  # Django's own check ran, failed, and the connection was opened again
