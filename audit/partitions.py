"""Monthly partitions of the audit trail on PostgreSQL (issue 15, part 7).

The audit event table grows with every request and is never pruned by the application; past tens of
millions of rows its indexes and VACUUM become the cost. Migration 0005 turns it into a table
declaratively partitioned by RANGE on `at` (one partition a month, `audit_auditevent_2026_12`, plus a
DEFAULT partition so that an insert never fails for want of a partition), and the beat task
`audit.tasks.partitions_ahead` creates the coming months' partitions ahead of time.

What partitioning changes, and how the trail keeps its guarantees:
- The primary key must include the partition key: it is (seq, at). `seq` stays the model's primary
  key for Django (lookups, `save()`, foreign references by number all name it alone); it stays unique
  because one identity sequence numbers every event, and the (seq, at) index serves `seq` lookups.
- `position` (the chain position) loses its unique index: a partitioned table can only enforce
  uniqueness that includes `at`. The append-only trigger (audit/triggers.py, version 3) checks it
  instead when the chainer fills it, under the chain lock, so it cannot race; `verify_audit_chain`
  would report a duplicate as a break anyway.
- Triggers: the row trigger refusing UPDATE/DELETE is cloned by PostgreSQL onto every partition; the
  TRUNCATE trigger is per table, so each partition gets its own (here and in triggers.py).
- Privileges: each partition gets the parent's (`hopluc_acl_copy`): the application role may read
  and insert through the parent only as before; direct UPDATE, DELETE and TRUNCATE of a partition are
  refused by privilege and by trigger.
- The application role owns no table and so may not create partitions: `hopluc_month_partition` is a
  SECURITY DEFINER function the migration role owns, which only creates the month's partition of a
  partitioned table (moving that month's rows out of the DEFAULT partition first, unchanged, if some
  landed there) and copies the parent's privileges and TRUNCATE triggers to it.

SQLite: nothing (every function here returns at once on another vendor).
"""

import datetime

from django.db import connections

from .models import AUDIT_EVENT_TABLE

PARTITION_KEY = "at"

# Created by migration 0005 (owned by the migration role). PUBLIC may not execute the SECURITY DEFINER
# function: app_role_ensure grants it to the application role.
FUNCTIONS_SQL = [
    """
    CREATE OR REPLACE FUNCTION hopluc_acl_copy(source regclass, target regclass) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog AS $$
    DECLARE entry record;
    BEGIN
        FOR entry IN SELECT DISTINCT a.grantee FROM pg_class c, aclexplode(c.relacl) a
                     WHERE c.oid = target AND a.grantee <> c.relowner LOOP
            EXECUTE format('REVOKE ALL ON %s FROM %s', target,
                CASE WHEN entry.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(entry.grantee)) END);
        END LOOP;
        FOR entry IN SELECT a.grantee, a.privilege_type FROM pg_class c, aclexplode(c.relacl) a
                     WHERE c.oid = source AND a.grantee <> c.relowner LOOP
            EXECUTE format('GRANT %s ON %s TO %s', entry.privilege_type, target,
                CASE WHEN entry.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(entry.grantee)) END);
        END LOOP;
    END
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION hopluc_month_partition(parent regclass, month date) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
    DECLARE
        -- Months in UTC, whatever the session's time zone.
        start text := to_char(date_trunc('month', month), 'YYYY-MM-DD') || ' 00:00:00+00';
        stop text := to_char(date_trunc('month', month) + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00';
        base text; schema text; name text; part regclass; key text; fallback regclass; waiting bigint := 0;
        trig record;
    BEGIN
        SELECT c.relname, n.nspname INTO base, schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = parent AND c.relkind = 'p';
        IF base IS NULL THEN
            RAISE EXCEPTION '% is not a partitioned table', parent;
        END IF;
        name := base || '_' || to_char(date_trunc('month', month), 'YYYY_MM');
        IF to_regclass(format('%I.%I', schema, name)) IS NOT NULL THEN
            RETURN NULL;  -- made already
        END IF;
        SELECT a.attname INTO key FROM pg_partitioned_table p
        JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] WHERE p.partrelid = parent;
        SELECT i.inhrelid INTO fallback FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = parent AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT';
        IF fallback IS NOT NULL THEN
            EXECUTE format('SELECT count(*) FROM %s WHERE %I >= %L AND %I < %L', fallback, key, start, key, stop)
                INTO waiting;
        END IF;
        IF waiting = 0 THEN
            EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                           schema, name, parent, start, stop);
        ELSE
            -- Rows of that month landed in the DEFAULT partition: the new partition cannot be attached
            -- while they are there. They move unchanged (the append-only triggers are lifted on the
            -- DEFAULT partition only, inside this transaction).
            EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                           schema, name, parent);
            EXECUTE format('ALTER TABLE %s DISABLE TRIGGER USER', fallback);
            EXECUTE format('WITH moved AS (DELETE FROM %s WHERE %I >= %L AND %I < %L RETURNING *) '
                           'INSERT INTO %I.%I SELECT * FROM moved', fallback, key, start, key, stop, schema, name);
            EXECUTE format('ALTER TABLE %s ENABLE TRIGGER USER', fallback);
            EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
                           parent, schema, name, start, stop);
        END IF;
        part := format('%I.%I', schema, name)::regclass;
        -- Statement-level TRUNCATE triggers are not cloned onto partitions (row triggers are).
        FOR trig IN SELECT t.tgname, t.tgfoid::regproc AS fn FROM pg_trigger t
                    WHERE t.tgrelid = parent AND NOT t.tgisinternal AND (t.tgtype & 1) = 0 AND (t.tgtype & 32) <> 0 LOOP
            EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %s()',
                           trig.tgname, part, trig.fn);
        END LOOP;
        -- The helper lives in the parent's schema (the migration creates both there).
        EXECUTE format('SELECT %I.hopluc_acl_copy(%L::regclass, %L::regclass)', schema, parent, part);
        RETURN name;
    END
    $$
    """,
    "REVOKE ALL ON FUNCTION hopluc_month_partition(regclass, date) FROM PUBLIC",
]
FUNCTIONS_DROP_SQL = [
    "DROP FUNCTION IF EXISTS hopluc_month_partition(regclass, date)",
    "DROP FUNCTION IF EXISTS hopluc_acl_copy(regclass, regclass)",
]


def month_start(day: datetime.date, months: int = 0) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def is_partitioned(connection, table: str) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    return bool(row and row[0] == "p")


def partitions(connection, table: str) -> list[tuple[str, str]]:
    """(partition name, bound) of a partitioned table, in name order (the DEFAULT partition last)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c "
            "ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s) "
            "ORDER BY pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', c.relname",
            [table],
        )
        return cursor.fetchall()


def month_partitions_ensure(connection, table: str, first: datetime.date, last: datetime.date) -> list[str]:
    """Create the monthly partitions of `table` from the month of `first` to the month of `last`
    (those missing); returns the names created. Idempotent."""
    created = []
    month = month_start(first)
    with connection.cursor() as cursor:
        while month <= last:
            cursor.execute("SELECT hopluc_month_partition(%s::regclass, %s)", [table, month])
            name = cursor.fetchone()[0]
            if name:
                created.append(name)
            month = month_start(month, 1)
    return created


def convert_to_monthly(connection, table: str, key: str, *, months_ahead: int) -> bool:
    """Turn a plain table into one partitioned by month on `key`, in the running transaction: the
    same columns, identity sequence (continued), indexes (unique ones become plain indexes: see the
    module's doc), check and foreign-key constraints and privileges; rows moved; a DEFAULT partition and
    one partition per month from the oldest row to `months_ahead` months from now. Triggers are the
    caller's (they name the table). Returns False when the table is partitioned already."""
    if connection.vendor != "postgresql" or is_partitioned(connection, table):
        return False
    quote = connection.ops.quote_name
    old = f"{table}_unpartitioned"
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {quote(table)} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid), "
            "ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = conrelid AND attnum = ANY(conkey) ORDER BY attnum)"
            " FROM pg_constraint WHERE conrelid = %s::regclass ORDER BY conname", [table],
        )
        constraints = cursor.fetchall()
        (primary,) = [columns for _name, kind, _definition, columns in constraints if kind == "p"]
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
            [table, table],
        )
        indexes = cursor.fetchall()
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, primary[0]])
        sequence = cursor.fetchone()[0]
        next_value = None
        if sequence:
            cursor.execute(f"SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM {sequence}")  # noqa: S608
            next_value = cursor.fetchone()[0]
        cursor.execute(
            "SELECT a.attname, x.grantee, x.privilege_type FROM pg_attribute a, aclexplode(a.attacl) x "
            "WHERE a.attrelid = %s::regclass AND a.attacl IS NOT NULL", [table],
        )
        column_grants = cursor.fetchall()
        # Free the names the new table takes: the old one's, its constraints' indexes, its sequence's.
        cursor.execute(f"ALTER TABLE {quote(table)} RENAME TO {quote(old)}")
        for name, kind, _definition, _columns in constraints:
            if kind in ("p", "u"):
                cursor.execute(f"ALTER TABLE {quote(old)} DROP CONSTRAINT {quote(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
        if sequence:
            cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {quote(sequence.split('.')[-1] + '_unpartitioned')}")
        columns = ", ".join(quote(name) for name in [*primary, key] if name)
        cursor.execute(
            f"CREATE TABLE {quote(table)} (LIKE {quote(old)} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING STORAGE "
            f"INCLUDING COMMENTS, PRIMARY KEY ({columns})) PARTITION BY RANGE ({quote(key)})"
        )
        if next_value:
            cursor.execute(
                f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(primary[0])} RESTART WITH {int(next_value)}"
            )
        cursor.execute(f"CREATE TABLE {quote(table + '_default')} PARTITION OF {quote(table)} DEFAULT")
        cursor.execute("SELECT hopluc_acl_copy(%s::regclass, %s::regclass)", [old, table])
        cursor.execute(f"SELECT min({quote(key)}), now() FROM {quote(old)}")  # noqa: S608 - quoted names
        oldest, now = cursor.fetchone()
        month_partitions_ensure(connection, table, (oldest or now).date(), month_start(now.date(), months_ahead))
        cursor.execute(f"INSERT INTO {quote(table)} SELECT * FROM {quote(old)}")  # noqa: S608 - quoted names
        for _name, definition in indexes:
            cursor.execute(definition)
        for name, kind, definition, unique_columns in constraints:
            if kind == "u":
                listed = ", ".join(quote(column) for column in unique_columns)
                cursor.execute(f"CREATE INDEX {quote(name)} ON {quote(table)} ({listed})")
            elif kind in ("c", "f"):
                cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        for column, grantee, privilege in column_grants:
            cursor.execute("SELECT CASE WHEN %s = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(%s)) END",
                           [grantee, grantee])
            cursor.execute(f"GRANT {privilege} ({quote(column)}) ON {quote(table)} TO {cursor.fetchone()[0]}")
        cursor.execute(f"DROP TABLE {quote(old)}")
        cursor.execute(f"ANALYZE {quote(table)}")
    return True


def default_partition_months(connection, table: str, key: str = PARTITION_KEY) -> list[datetime.date]:
    """The months (UTC) of the rows the DEFAULT partition holds: none, normally."""
    fallback = [name for name, bound in partitions(connection, table) if bound == "DEFAULT"]
    if not fallback:
        return []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', {quote(key)} AT TIME ZONE 'UTC')::date "  # noqa: S608
            f"FROM {quote(fallback[0])} ORDER BY 1"
        )
        return [month for (month,) in cursor.fetchall()]


def month_partitions_ahead(table: str, key: str, months_ahead: int, *, using: str = "default") -> list[str]:
    """A beat task's work for a table partitioned by month on `key`: this month's and the next
    `months_ahead` months' partitions, those missing, and the partitions of months whose rows wait in
    DEFAULT (written with an old or far time: a bulk load, a clock set wrong), which moves them there.
    Nothing on SQLite or while the table is not partitioned."""
    connection = connections[using]
    if not is_partitioned(connection, table):
        return []
    from django.utils import timezone

    today = timezone.now().date()
    created = month_partitions_ensure(connection, table, today, month_start(today, months_ahead))
    for month in default_partition_months(connection, table, key):
        created += month_partitions_ensure(connection, table, month, month)
    return created


def audit_partitions_ahead(months_ahead: int, *, using: str = "default") -> list[str]:
    """The audit trail's partitions ahead (month_partitions_ahead)."""
    return month_partitions_ahead(AUDIT_EVENT_TABLE, PARTITION_KEY, months_ahead, using=using)
