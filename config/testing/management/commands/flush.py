"""`flush` that can empty the append-only audit table (and the monthly reports, which refuse
DELETE and TRUNCATE too, and signed case-meeting minutes, which refuse DELETE).

Django's test runner calls `flush` after every transactional test. The triggers would refuse it, so
this lifts them for the length of the flush, inside one transaction that puts them back; if anything
fails, the rollback restores them too. It overrides django.core's command because app commands take
precedence. It exists only under config.settings.test (the app `config.testing` is installed there
alone): anywhere else, `flush` meets the triggers and the audit trail cannot be emptied by a command.
"""

from django.core.management.commands import flush
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from audit.models import AUDIT_EVENT_TABLE
from audit.triggers import append_only_install, append_only_remove
from conferences.models import MeetingMinutes
from conferences.triggers import minutes_lock_install, minutes_lock_remove
from reports.triggers import TABLE as MONTHLY_REPORT_TABLE
from reports.triggers import no_delete_install, no_delete_remove


class Command(flush.Command):
    def handle(self, **options):
        database = options.get("database", DEFAULT_DB_ALIAS)
        connection = connections[database]
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
