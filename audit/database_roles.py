"""The application's PostgreSQL role: it reads and writes rows, and owns nothing.

Production runs two roles (README, "Database roles"): the migration role, which owns the tables
and runs `migrate`, and the application role (DATABASE_APP_ROLE), which web, worker and beat log in
as. Because the application role owns no table, it cannot drop or disable the triggers that keep
the audit trail append-only and published reports unchanged (ALTER TABLE, DROP TRIGGER and
TRUNCATE need ownership or privileges it lacks, and `session_replication_role` needs a superuser),
so a compromised or mistaken application cannot rewrite history.

`migrate` (run as the migration role) keeps the application role in step after every run, through
`app_role_ensure`: it creates the role if missing (or sets its password), grants it SELECT, INSERT,
UPDATE and DELETE on every table and USAGE on every sequence of the schema, and sets default
privileges so that tables created by later migrations are covered the same way. The append-only
tables get SELECT and INSERT only: their triggers refuse changes anyway, and the role lacks the
privilege too.
"""

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from audit.models import AUDIT_EVENT_TABLE

logger = logging.getLogger(__name__)

# Rows are added, never changed or removed (triggers: audit/triggers.py, reports/triggers.py).
APPEND_ONLY_TABLES = (AUDIT_EVENT_TABLE, "reports_monthlyreport")
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
AUDIT_CHAIN_COLUMNS = ("position", "prev_hash", "hash")
SEQUENCE_PRIVILEGES = "USAGE, SELECT"


def app_role_ensure(connection, *, role: str, password: str = "") -> None:
    """Create or update the application role on a PostgreSQL connection that runs as the migration
    role (the tables' owner, which may create roles), and grant it what the application needs."""
    if connection.vendor != "postgresql":
        raise ImproperlyConfigured("DATABASE_APP_ROLE is for PostgreSQL only.")
    # CREATE ROLE and ALTER ROLE take no bound parameters: with server-side binding (the default) PostgreSQL
    # refuses a `$1` there, so the password is quoted into the statement on this side, as Django's schema
    # editor does for DDL.
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database(), current_schema()")
        owner, database, schema = cursor.fetchone()
        if role == owner:
            raise ImproperlyConfigured(
                f"DATABASE_APP_ROLE is {role!r}, the role running the migrations: the application must log in as "
                "another role, one that owns no table."
            )
        cursor.execute(
            "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR rolreplication FROM pg_roles "
            "WHERE rolname = %s", [role],
        )
        row = cursor.fetchone()
        if row is None:
            if not password:
                raise ImproperlyConfigured(f"DATABASE_APP_PASSWORD is needed to create the role {role!r}.")
            cursor.execute(connection.ops.compose_sql(
                f"CREATE ROLE {quote(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
                "NOINHERIT PASSWORD %s", [password],
            ))
        elif row[0]:
            raise ImproperlyConfigured(
                f"The role {role!r} may bypass the database's protections (superuser, CREATEROLE, CREATEDB, "
                "BYPASSRLS or REPLICATION): the application role must be an ordinary role."
            )
        elif password and _may_manage_roles(cursor):
            # Rotating the password in the environment and running migrate again changes it.
            cursor.execute(connection.ops.compose_sql(f"ALTER ROLE {quote(role)} LOGIN PASSWORD %s", [password]))
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tableowner = %s", [schema, role]
        )
        owned = [name for (name,) in cursor.fetchall()]
        if owned:
            raise ImproperlyConfigured(
                f"The role {role!r} owns tables ({', '.join(sorted(owned)[:5])}): the application role must own none."
            )
        grantee, schema_name = quote(role), quote(schema)
        for sql in (
            f"GRANT CONNECT, TEMPORARY ON DATABASE {quote(database)} TO {grantee}",
            f"GRANT USAGE ON SCHEMA {schema_name} TO {grantee}",
            f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA {schema_name} TO {grantee}",
            f"GRANT {SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA {schema_name} TO {grantee}",
            # Tables and sequences the migration role creates later are covered without a new grant.
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(owner)} IN SCHEMA {schema_name} "
            f"GRANT {TABLE_PRIVILEGES} ON TABLES TO {grantee}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(owner)} IN SCHEMA {schema_name} "
            f"GRANT {SEQUENCE_PRIVILEGES} ON SEQUENCES TO {grantee}",
        ):
            cursor.execute(sql)
        existing = set(connection.introspection.table_names(cursor))
        for table in APPEND_ONLY_TABLES:
            if table in existing:
                # A partitioned table's partitions too (audit/partitions.py): GRANT ON ALL TABLES reached them.
                cursor.execute(
                    "SELECT format('%%I.%%I', n.nspname, c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = "
                    "i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE i.inhparent = %s::regclass",
                    [table],
                )
                for name in [quote(table), *(row[0] for row in cursor.fetchall())]:
                    cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {name} FROM {grantee}")
        cursor.execute("SELECT to_regprocedure('hopluc_month_partition(regclass, date)') IS NOT NULL")
        if cursor.fetchone()[0]:
            # The beat task creates the coming months' partitions through this function (it runs as the owner).
            cursor.execute(f"GRANT EXECUTE ON FUNCTION hopluc_month_partition(regclass, date) TO {grantee}")
        if AUDIT_EVENT_TABLE in existing:
            # The chainer fills an event's chain fields once after its commit (the trigger refuses any
            # other change, and a second fill); no other column of the trail may be updated.
            cursor.execute(
                f"GRANT UPDATE ({', '.join(AUDIT_CHAIN_COLUMNS)}) ON {quote(AUDIT_EVENT_TABLE)} TO {grantee}"
            )
    logger.info("Database role %s: DML on the tables of %s.%s (append-only tables: SELECT, INSERT)",
                role, database, schema)


def _may_manage_roles(cursor) -> bool:
    """A managed database's owner may lack CREATEROLE: the role was then created by its administrator."""
    cursor.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
    return bool(cursor.fetchone()[0])


def app_role_after_migrate(sender, using="default", **kwargs) -> None:
    """post_migrate: keep DATABASE_APP_ROLE in step when it is set (production's migrate service)."""
    from django.db import connections

    if not settings.DATABASE_APP_ROLE:
        return
    connection = connections[using]
    if connection.vendor != "postgresql":
        logger.warning("DATABASE_APP_ROLE is set but the database is not PostgreSQL: no role is managed")
        return
    app_role_ensure(connection, role=settings.DATABASE_APP_ROLE, password=settings.DATABASE_APP_PASSWORD)
