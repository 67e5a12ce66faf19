"""Notifications partitioned by month on PostgreSQL (issue 15, part 7), with their send-once keys in a
small unpartitioned table.

Every event writes one notification per recipient and none is ever pruned, so the table grows like the
audit trail. Migration 0015 turns it into a table partitioned by RANGE on `created_at` (one partition
a month in UTC, `notifications_notification_2026_12`, and a DEFAULT partition), as audit/partitions.py
does for the trail (same helpers, same SECURITY DEFINER `hopluc_month_partition`), and the beat task
`notifications.tasks.partitions_ahead` creates the coming months' partitions.

What partitioning changes, and how the notifications keep their guarantees:
- The primary key is (id, created_at); `id` stays the model's primary key for Django (one sequence
  numbers every row, and the (id, created_at) index serves lookups by id).
- Send once: `notification_once_per_event` (event_key, recipient) cannot stay a unique index of a
  partitioned table (it would have to include the month, and an event repeated across a month
  boundary would then notify twice). The uniqueness moves to `notifications_notification_key`, an
  unpartitioned table whose primary key is (event_key, recipient_id), kept by triggers on the
  notifications in the writing transaction:
  - an insert statement (one set-based trigger per statement) claims its rows' keys (INSERT ... ON
    CONFLICT DO NOTHING) or binds the keys its own transaction claimed beforehand
    (`notification_recipients_claim`), and otherwise fails with unique_violation naming
    `notification_once_per_event`, as the unique index did (the sweep's COPY path relies on that);
  - a concurrent writer of the same key waits on the key's index entry until the first commits or
    rolls back, exactly as it waited on the unique index;
  - deleting a notification (a user's deletion, erasure) frees its key; TRUNCATE of the table or of a
    partition frees the keys of its rows. Detaching or dropping an old partition keeps its keys, so
    an old event still cannot notify again (delete those keys with it if that is wanted).
  `notify` (bulk_create with ignore_conflicts: a repeated event is skipped silently, not an error)
  claims its keys first in one statement (`notification_recipients_claim`) and writes notifications
  for the keys it won only.
- The outbox is not partitioned (its rows follow a notification's channels and it keeps its unique
  (event_key, recipient, channel) index, which refuses a second send), but its foreign key to the
  notification cannot reference `id` alone any more: on PostgreSQL that constraint is dropped.
  Django still deletes a notification's outbox rows with it (on_delete=CASCADE is Django's), and
  every outbox row is written in the transaction that writes its notification.
- Updating created_at (moving a row to another month) is not supported: nothing does it.

SQLite: nothing (the table keeps its unique constraint).
"""

from django.db import connections, router

from audit.partitions import FUNCTIONS_SQL, convert_to_monthly, is_partitioned, month_partitions_ahead, partitions

from .models import Notification, OutboxMessage

NOTIFICATION_TABLE = Notification._meta.db_table
OUTBOX_TABLE = OutboxMessage._meta.db_table
KEY_TABLE = "notifications_notification_key"
PARTITION_KEY = "created_at"
ONCE_CONSTRAINT = "notification_once_per_event"


def _raise_taken(row: str) -> str:
    """The PL/pgSQL statement that refuses a second notification of one event to one recipient, with
    the unique constraint's own name and SQLSTATE, naming the key `row` holds."""
    return (f"RAISE EXCEPTION 'duplicate key value violates unique constraint \"{ONCE_CONSTRAINT}\"' "
            f"USING ERRCODE = 'unique_violation', CONSTRAINT = '{ONCE_CONSTRAINT}', "
            f"DETAIL = format('Key (event_key, recipient_id)=(%s, %s) already exists.', "
            f"{row}.event_key, {row}.recipient_id);")

KEY_TABLE_SQL = f"""
    CREATE TABLE IF NOT EXISTS {KEY_TABLE} (
        event_key varchar(120) NOT NULL,
        recipient_id integer NOT NULL,
        -- NULL while claimed by notification_keys_claim and not yet written.
        notification_id bigint,
        PRIMARY KEY (event_key, recipient_id)
    )
"""

# Version 1. The functions run as the writer (the application role may read and write the key table).
# Inserts and deletes are handled per statement (one set-based statement over the transition table, so
# that the sweep's COPY of thousands of rows costs one join, not a function call per row).
TRIGGER_FUNCTIONS_SQL = [
    f"""
    CREATE OR REPLACE FUNCTION notifications_key_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        total bigint;
        written bigint;
        taken record;
    BEGIN
        SELECT count(*) INTO total FROM inserted;
        -- Bind the keys claimed beforehand in this transaction (notification_recipients_claim), claim
        -- the others; a key taken for good (or twice in this statement) is left as it is. EXECUTE plans
        -- it for this statement's row count: a plan cached for a large COPY would hash-join the whole
        -- key table for a notify of three rows.
        EXECUTE $sql$
            WITH bound AS (
                UPDATE {KEY_TABLE} k SET notification_id = n.id FROM inserted n
                WHERE k.event_key = n.event_key AND k.recipient_id = n.recipient_id AND k.notification_id IS NULL
                RETURNING n.id
            ), added AS (
                INSERT INTO {KEY_TABLE} (event_key, recipient_id, notification_id)
                SELECT n.event_key, n.recipient_id, n.id FROM inserted n WHERE n.id NOT IN (SELECT id FROM bound)
                ON CONFLICT DO NOTHING RETURNING 1
            )
            SELECT (SELECT count(*) FROM bound) + (SELECT count(*) FROM added)
        $sql$ INTO written;
        IF written < total THEN
            EXECUTE $sql$
                SELECT n.event_key, n.recipient_id FROM inserted n WHERE NOT EXISTS (
                    SELECT 1 FROM {KEY_TABLE} k
                    WHERE k.event_key = n.event_key AND k.recipient_id = n.recipient_id AND k.notification_id = n.id
                ) LIMIT 1
            $sql$ INTO taken;
            {_raise_taken('taken')}
        END IF;
        RETURN NULL;
    END
    $$
    """,  # noqa: S608 - constant names
    # Per row, and only when an UPDATE names event_key or recipient (nothing in the application does).
    f"""
    CREATE OR REPLACE FUNCTION notifications_key_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.event_key = OLD.event_key AND NEW.recipient_id = OLD.recipient_id THEN
            RETURN NEW;
        END IF;
        DELETE FROM {KEY_TABLE}
        WHERE event_key = OLD.event_key AND recipient_id = OLD.recipient_id AND notification_id = OLD.id;
        INSERT INTO {KEY_TABLE} (event_key, recipient_id, notification_id)
        VALUES (NEW.event_key, NEW.recipient_id, NEW.id) ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            {_raise_taken('NEW')}
        END IF;
        RETURN NEW;
    END
    $$
    """,  # noqa: S608 - constant names
    f"""
    CREATE OR REPLACE FUNCTION notifications_key_free() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        EXECUTE $sql$
            DELETE FROM {KEY_TABLE} k USING deleted d
            WHERE k.event_key = d.event_key AND k.recipient_id = d.recipient_id AND k.notification_id = d.id
        $sql$;
        RETURN NULL;
    END
    $$
    """,  # noqa: S608 - constant names
    # Per statement, before TRUNCATE of the table (all keys go) or of one partition (its rows' keys).
    f"""
    CREATE OR REPLACE FUNCTION notifications_key_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_RELID = '{NOTIFICATION_TABLE}'::regclass THEN
            DELETE FROM {KEY_TABLE};
        ELSE
            EXECUTE format('DELETE FROM {KEY_TABLE} k USING %s n '
                           'WHERE k.event_key = n.event_key AND k.recipient_id = n.recipient_id', TG_RELID::regclass);
        END IF;
        RETURN NULL;
    END
    $$
    """,  # noqa: S608 - constant names
]
# The statement triggers fire for statements on the parent table, which is where the application
# writes; a statement naming one partition directly (an operator's) does not touch the keys, except
# TRUNCATE (each partition carries that trigger).
TRIGGERS_SQL = [
    f"""CREATE TRIGGER notifications_key_insert AFTER INSERT ON {NOTIFICATION_TABLE}
        REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION notifications_key_insert()""",
    f"""CREATE TRIGGER notifications_key_update BEFORE UPDATE OF event_key, recipient_id ON {NOTIFICATION_TABLE}
        FOR EACH ROW EXECUTE FUNCTION notifications_key_update()""",
    f"""CREATE TRIGGER notifications_key_free AFTER DELETE ON {NOTIFICATION_TABLE}
        REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION notifications_key_free()""",
]
TRUNCATE_TRIGGER_SQL = """CREATE TRIGGER notifications_key_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION notifications_key_truncate()"""


def _outbox_foreign_keys(cursor) -> list[str]:
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND confrelid = %s::regclass "
        "AND contype = 'f'", [OUTBOX_TABLE, NOTIFICATION_TABLE],
    )
    return [name for (name,) in cursor.fetchall()]


def notifications_partition(connection, *, months_ahead: int) -> bool:
    """Migration 0015's work on PostgreSQL, in its transaction: the partitioned table (rows copied),
    the key table filled from the rows, the triggers. Returns False when done already (or SQLite)."""
    if connection.vendor != "postgresql":
        return False
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for sql in FUNCTIONS_SQL:
            cursor.execute(sql)
        for sql in TRIGGER_FUNCTIONS_SQL:
            cursor.execute(sql)
        if is_partitioned(connection, NOTIFICATION_TABLE):
            return False
        for name in _outbox_foreign_keys(cursor):
            cursor.execute(f"ALTER TABLE {quote(OUTBOX_TABLE)} DROP CONSTRAINT {quote(name)}")
    convert_to_monthly(connection, NOTIFICATION_TABLE, PARTITION_KEY, months_ahead=months_ahead)
    with connection.cursor() as cursor:
        cursor.execute(KEY_TABLE_SQL)
        cursor.execute("SELECT hopluc_acl_copy(%s::regclass, %s::regclass)", [NOTIFICATION_TABLE, KEY_TABLE])
        cursor.execute(
            f"INSERT INTO {KEY_TABLE} (event_key, recipient_id, notification_id) "  # noqa: S608 - constants
            f"SELECT event_key, recipient_id, id FROM {NOTIFICATION_TABLE}"
        )
        for sql in TRIGGERS_SQL:
            cursor.execute(sql)
        # Statement triggers are per table: the parent's, then each partition's (hopluc_month_partition
        # copies the parent's onto the partitions it makes later).
        for name in [NOTIFICATION_TABLE, *(name for name, _bound in partitions(connection, NOTIFICATION_TABLE))]:
            cursor.execute(TRUNCATE_TRIGGER_SQL.format(table=quote(name)))
        cursor.execute(f"ANALYZE {KEY_TABLE}")
    return True


def notification_recipients_claim(*, event_key: str, user_ids: list[int]) -> list[int]:
    """The users (of `user_ids`, in order) not told this event yet, claimed for the running transaction.

    On PostgreSQL one INSERT ... ON CONFLICT DO NOTHING of their keys into the key table: a user told
    already, or being told by a transaction still open (this waits for it to end), is left out, and
    the notifications written next bind the claims (the key trigger). Elsewhere the users without a
    notification of the event; the unique constraint (with bulk_create's ignore_conflicts) covers a
    concurrent writer."""
    if not user_ids:
        return []
    connection = connections[router.db_for_write(Notification)]
    if connection.vendor != "postgresql":
        told = set(
            Notification.objects.using(connection.alias).filter(event_key=event_key, recipient_id__in=user_ids)
            .order_by().values_list("recipient_id", flat=True)
        )
        return [user_id for user_id in user_ids if user_id not in told]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {KEY_TABLE} (event_key, recipient_id) "  # noqa: S608 - constant
            "SELECT %s, unnest(%s::integer[]) ON CONFLICT DO NOTHING RETURNING recipient_id",
            [event_key, list(user_ids)],
        )
        won = {recipient for (recipient,) in cursor.fetchall()}
    return [user_id for user_id in user_ids if user_id in won]


def notification_partitions_ahead(months_ahead: int, *, using: str = "default") -> list[str]:
    """The beat task's work: this month's and the next `months_ahead` months' partitions of the
    notifications, and those of months whose rows wait in DEFAULT (audit.partitions)."""
    return month_partitions_ahead(NOTIFICATION_TABLE, PARTITION_KEY, months_ahead, using=using)

