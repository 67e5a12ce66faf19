from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation

from audit.models import AUDIT_EVENT_TABLE, AuditEvent
from audit.services import audit_chain_pending, audit_record
from audit.triggers import append_only_install, append_only_remove
from tests.support.sql import execute


@contextmanager
def triggers_off():
    """Lift the append-only triggers, as someone with the table owner's rights could, to tamper
    with the table in a test."""
    if connection.vendor == "postgresql":
        # ALTER TABLE refuses to run while deferred foreign-key checks of this transaction wait.
        execute("SET CONSTRAINTS ALL IMMEDIATE", f"ALTER TABLE {AUDIT_EVENT_TABLE} DISABLE TRIGGER USER")
        try:
            yield
        finally:
            execute("SET CONSTRAINTS ALL IMMEDIATE", f"ALTER TABLE {AUDIT_EVENT_TABLE} ENABLE TRIGGER USER",
                    "SET CONSTRAINTS ALL DEFERRED")
    else:
        append_only_remove(connection)
        try:
            yield
        finally:
            append_only_install(connection)


def tamper(sql: str, params=()) -> int:
    with triggers_off(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def chained(*events: AuditEvent) -> list[AuditEvent]:
    """Run the chainer (after commit in production; a test's transaction never commits) and return the
    events as stored, with their chain fields."""
    audit_chain_pending()
    for event in events:
        event.refresh_from_db()
    return list(events)


@pytest.fixture
def five_events(db):
    return chained(*[
        audit_record(actor=None, action="view", case_id=n, target=f"case:{n}", categories=["identity"])
        for n in range(1, 6)
    ])


@pytest.fixture
def checkpoint_dir(settings, tmp_path):
    """Anchors written to this test's own folder (the modules that sign or verify use it for every test)."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "anchors"
    return settings.AUDIT_CHECKPOINT_DIR


def verify(*args) -> str:
    """What `verify_audit_chain` prints when the chain holds."""
    out = StringIO()
    # Operators get LANGUAGE_CODE (Vietnamese); the assertions read the English source text.
    with translation.override("en"):
        call_command("verify_audit_chain", *args, stdout=out)
    return out.getvalue()


def verify_fails(*args) -> str:
    """The message `verify_audit_chain` fails with (a non-zero exit status)."""
    with pytest.raises(CommandError) as excinfo:
        verify(*args)
    assert excinfo.value.returncode != 0
    return str(excinfo.value)
