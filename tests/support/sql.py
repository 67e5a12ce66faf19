"""Raw SQL on the test database, for tests that work below the ORM (roles, triggers)."""

import threading
import time

from django.db import connection, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import translation


def execute(*statements: str) -> None:
    """Run each statement, in order, on the default connection."""
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _one(sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def primary_key(table: str) -> str:
    """The table's primary key as PostgreSQL declares it: "PRIMARY KEY (seq, at)"."""
    return _one("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
                [table])


def partition_key(table: str) -> str:
    """How a partitioned table is split: "RANGE (at)"."""
    return _one("SELECT pg_get_partkeydef(%s::regclass)", [table])


def checks_now() -> None:
    """ALTER TABLE and TRUNCATE refuse to run while deferred foreign-key checks of this transaction
    wait (a test's transaction never commits): run them now."""
    execute("SET CONSTRAINTS ALL IMMEDIATE")


def tables_as_of(migration: tuple[str, str], *model_names: str) -> None:
    """Create the app's tables for model_names as `migration` left them, in a schema of their own
    that comes first in search_path for the rest of the test's transaction (rolled back with it)."""
    state = MigrationLoader(connection).project_state(migration)
    execute("CREATE SCHEMA hopluc_upgrade_test", "SET LOCAL search_path = hopluc_upgrade_test, public")
    with connection.schema_editor() as editor:
        for name in model_names:
            editor.create_model(state.apps.get_model(migration[0], name))


def other_waits_or_ends(thread, *, seconds: float = 10.0) -> bool:
    """Poll, from inside this connection's open transaction, until the transaction `thread` runs on its own
    connection either waits for a lock this one holds (True) or has ended without waiting (False): the
    moment at which committing this one tests the order of the two. PostgreSQL's pg_blocking_pids."""
    end = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < end:
            if not thread.is_alive():
                return False
            # pg_locks, not pg_stat_activity: that one is read once a transaction and kept.
            cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_locks "
                           "WHERE NOT granted AND pg_backend_pid() = ANY (pg_blocking_pids(pid)))")
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.01)
    raise AssertionError(f"the other transaction neither waited for this one nor ended in {seconds} s")


def second_waits_for_first(first, second) -> tuple:
    """`first()` in a transaction left open on this connection, then `second()` on a thread (its own
    connection), which must wait for a lock the first holds; the first commits once it waits. Returns
    (what first returned, what second returned or the exception it raised). The thread speaks this
    thread's language (a new thread has none active and falls back to LANGUAGE_CODE), so that its messages
    compare with the test's gettext whichever language an earlier test left active here."""
    outcome = {}
    language = translation.get_language()

    def run():
        try:
            with translation.override(language):
                outcome["second"] = second()
        except Exception as error:  # noqa: BLE001 - handed to the test
            outcome["second"] = error
        finally:
            connections.close_all()

    with transaction.atomic():
        result = first()
        thread = threading.Thread(target=run)
        thread.start()
        assert other_waits_or_ends(thread), "the second did not wait for the first"
    thread.join(30)
    assert not thread.is_alive()
    return result, outcome["second"]


def two_sendings_at_once(lock, first, second, monkeypatch) -> tuple:
    """The double tap of a form that writes once (cases.sending): lock() takes a row lock in a transaction
    left open on this connection; first() runs on a thread and must wait for that lock inside its service,
    after claiming the form's token; second() runs on another thread and must wait for the first sending
    (cases.sending.sending_wait, watched here); then the lock is released. Returns both answers."""
    from cases import sending

    waiting, pause, answers = threading.Event(), sending.sending_wait, {}
    monkeypatch.setattr(sending, "sending_wait", lambda: (waiting.set(), pause()))

    def run(name, call):
        try:
            answers[name] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(name, call)) for name, call in (("first", first), ("second", second))]
    try:
        with transaction.atomic():
            lock()
            threads[0].start()
            assert other_waits_or_ends(threads[0]), "the first sending did not reach the lock"
            threads[1].start()
            assert waiting.wait(10), "the second sending did not wait for the first"
    finally:
        # Also when a check failed: the threads end before the test's teardown empties the tables.
        for thread in threads:
            if thread.ident is not None:
                thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    return answers["first"], answers["second"]
