"""`flush` that can empty the append-only audit table (and the monthly reports, which refuse
DELETE and TRUNCATE too, and signed case-meeting minutes, which refuse DELETE).

Django's test runner calls `flush` after every transactional test. The triggers would refuse it, so
this lifts them for the length of the flush, inside one transaction that puts them back; if anything
fails, the rollback restores them too. It overrides django.core's command because app commands take
precedence. It exists only under config.settings.test (the app `config.testing` is installed there
alone): anywhere else, `flush` meets the triggers and the audit trail cannot be emptied by a command.

After a test (no sequences to reset, nothing to ask) it empties only the tables that hold rows: one
statement finds them, and the content types and permissions, which post_migrate writes back
identically after every flush, are left in place (post_migrate still runs and adds any a test
removed). On PostgreSQL, as a superuser, the rows go by DELETE with the session in the replica role
(no trigger fires, no foreign key is checked: every table that holds rows is emptied in the same
transaction, and the two kept tables refer only to each other). TRUNCATE of all some 90 tables, as
Django does, makes new files for 600 relations and took 4-7 s a test on this shared machine.
"""

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management.commands import flush
from django.core.management.sql import emit_post_migrate_signal
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from audit.models import AUDIT_EVENT_TABLE
from audit.triggers import append_only_install, append_only_remove
from conferences.models import MeetingMinutes
from conferences.triggers import minutes_lock_install, minutes_lock_remove
from reports.triggers import TABLE as MONTHLY_REPORT_TABLE
from reports.triggers import no_delete_install, no_delete_remove


def tables_with_rows(connection, tables: list[str]) -> list[str]:
    """The tables of `tables` that hold at least one row, in one statement."""
    if not tables:
        return []
    quote = connection.ops.quote_name
    sql = " UNION ALL ".join(
        f"SELECT {index} WHERE EXISTS (SELECT 1 FROM {quote(table)})"  # noqa: S608 - the models' table names
        for index, table in enumerate(tables)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [tables[row[0]] for row in cursor.fetchall()]


def kept_tables() -> set[str]:
    """Written back row for row by post_migrate after every flush, so left in place."""
    return {ContentType._meta.db_table, Permission._meta.db_table}


class Command(flush.Command):
    def handle(self, **options):
        database = options.get("database", DEFAULT_DB_ALIAS)
        connection = connections[database]
        if not options.get("interactive", True) and not options.get("reset_sequences", True):
            return self.empty_tables_with_rows(connection, options)
        return self.flush_all_tables(connection, options)

    def flush_all_tables(self, connection, options):
        """Django's flush (TRUNCATE every table on PostgreSQL, DELETE on SQLite), triggers lifted."""
        database = connection.alias
        tables = set(connection.introspection.table_names())
        if AUDIT_EVENT_TABLE not in tables:
            return super().handle(**options)
        # Published monthly reports refuse DELETE and TRUNCATE too (reports migration 0002).
        reports = MONTHLY_REPORT_TABLE in tables
        # Signed minutes and their decisions refuse DELETE (conferences migration 0002): SQLite's
        # flush deletes row by row.
        minutes = MeetingMinutes._meta.db_table in tables
        with transaction.atomic(using=database):
            append_only_remove(connection)
            if reports:
                no_delete_remove(connection)
            if minutes:
                minutes_lock_remove(connection)
            super().handle(**options)
            append_only_install(connection)
            if reports:
                no_delete_install(connection)
            if minutes:
                minutes_lock_install(connection)

    def empty_tables_with_rows(self, connection, options):
        if connection.vendor == "postgresql" and not _is_superuser(connection):
            return self.flush_all_tables(connection, options)
        tables = set(connection.introspection.django_table_names(only_existing=True, include_views=False))
        if connection.vendor == "postgresql":
            # Tables kept by triggers beside the models' (the notifications' event keys), which TRUNCATE's
            # triggers emptied and the replica role's DELETE does not: empty in the migrated database too.
            tables |= set(connection.introspection.table_names()) - {"django_migrations"}
        candidates = sorted(tables - kept_tables())
        with transaction.atomic(using=connection.alias):
            full = tables_with_rows(connection, candidates)
            if full:
                self._delete_rows(connection, full, candidates)
        if full and not options.get("inhibit_post_migrate", False):
            emit_post_migrate_signal(options.get("verbosity", 1), False, connection.alias)

    def _delete_rows(self, connection, full: list[str], candidates: list[str]) -> None:
        quote = connection.ops.quote_name
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
                for table in full:
                    cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608 - the models' table names
            return
        # SQLite: the refusing triggers lifted as for the whole flush; foreign keys are checked at commit.
        # Other triggers still fire (a deleted action refreshes its case's figures), so what they write
        # is emptied in further rounds: nothing is left behind, as after Django's flush.
        append_only_remove(connection)
        no_delete_remove(connection)
        minutes_lock_remove(connection)
        for _round in range(5):
            with connection.cursor() as cursor:
                for table in full:
                    cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608 - the models' table names
            full = tables_with_rows(connection, candidates)
            if not full:
                break
        else:
            raise RuntimeError(f"flush: triggers keep writing rows into {full}")
        append_only_install(connection)
        no_delete_install(connection)
        minutes_lock_install(connection)


def _is_superuser(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])
