"""Database triggers that keep case rights coming from memberships alone, on PostgreSQL and SQLite
(permissions/README.md, rules 1 and 2). The membership services check the same first and say why
in words; the triggers are what holds when something else writes (Django admin, a shell, a bug).

- An agency's auth group (agency:<id>:<role>) is a cache of its memberships: adding a user to it
  without a Membership of that agency and role is refused; deleting a membership or changing its
  role removes the user from the groups it put them in.
- Those who never read cases stay out of the roles that do: a responder or supervisor membership
  cannot go with an agency-admin membership, an analyst scope, or a system administrator's account
  (is_superuser or is_staff).

A refusal raises IntegrityError (SQLSTATE 23000 on PostgreSQL, RAISE(ABORT) on SQLite).
"""

from django.db.migrations.operations.base import Operation

from config.triggers import (
    pg_check,
    pg_function,
    pg_raise,
    pg_trigger,
    sql_text,
    sqlite_check,
    sqlite_drops,
    vendor_statements,
)

_NO_CASE_ROLE = "a responder or supervisor cannot be "
# Both backends: an analyst scope, or a system administrator's account, for one who has a case role.
_ANALYST_CONFLICT = """
    EXISTS (SELECT 1 FROM agencies_membership WHERE user_id = NEW.user_id AND role IN ('responder', 'supervisor'))
"""
_SYSADMIN_CONFLICT = """
    (NEW.is_superuser OR NEW.is_staff) AND EXISTS (
        SELECT 1 FROM agencies_membership WHERE user_id = NEW.id AND role IN ('responder', 'supervisor'))
"""
# A user in an agency's auth group without the membership of that agency and role it stands for.
_GROUP_CONFLICT = """
    EXISTS (SELECT 1 FROM agencies_agencygroup WHERE group_id = NEW.group_id) AND NOT EXISTS (
        SELECT 1 FROM agencies_agencygroup ag
        JOIN agencies_membership m ON m.agency_id = ag.agency_id AND m.role = ag.role
        WHERE ag.group_id = NEW.group_id AND m.user_id = NEW.user_id)
"""

_POSTGRESQL_INSTALL = [
    pg_function("agencies_membership_roles_check", f"""
        IF NEW.role IN ('responder', 'supervisor') THEN
            IF EXISTS (SELECT 1 FROM auth_user WHERE id = NEW.user_id AND (is_superuser OR is_staff))
               OR EXISTS (SELECT 1 FROM agencies_analystscope WHERE user_id = NEW.user_id)
               OR EXISTS (SELECT 1 FROM agencies_membership
                          WHERE user_id = NEW.user_id AND role = 'agency_admin' AND id <> NEW.id) THEN
                {pg_raise(sql_text(_NO_CASE_ROLE + "an analyst, agency admin or system administrator"))}
            END IF;
        ELSIF NEW.role = 'agency_admin' AND EXISTS (
            SELECT 1 FROM agencies_membership
            WHERE user_id = NEW.user_id AND role IN ('responder', 'supervisor') AND id <> NEW.id) THEN
            {pg_raise(sql_text("an agency admin cannot be a responder or supervisor"))}
        END IF;
        RETURN NEW;
    """),  # noqa: S608 (no input: the refusal statements)
    pg_trigger("agencies_membership_roles", "BEFORE INSERT OR UPDATE ON agencies_membership",
               "agencies_membership_roles_check"),
    pg_function("agencies_membership_groups_follow", """
        IF TG_OP = 'DELETE' OR OLD.role <> NEW.role OR OLD.user_id <> NEW.user_id
           OR OLD.agency_id <> NEW.agency_id THEN
            DELETE FROM auth_user_groups WHERE user_id = OLD.user_id AND group_id IN (
                SELECT group_id FROM agencies_agencygroup WHERE agency_id = OLD.agency_id AND role = OLD.role);
        END IF;
        RETURN NULL;
    """),
    pg_trigger("agencies_membership_groups", "AFTER UPDATE OR DELETE ON agencies_membership",
               "agencies_membership_groups_follow"),
    pg_check("agencies_group_member_check", _GROUP_CONFLICT, "an agency group member needs the matching membership"),
    pg_trigger("agencies_group_member", "BEFORE INSERT OR UPDATE ON auth_user_groups", "agencies_group_member_check"),
    pg_check("agencies_no_case_role_check", _ANALYST_CONFLICT, _NO_CASE_ROLE + "an analyst"),
    pg_trigger("agencies_analyst_no_case_role", "BEFORE INSERT OR UPDATE ON agencies_analystscope",
               "agencies_no_case_role_check"),
    pg_check("agencies_sysadmin_no_case_role_check", _SYSADMIN_CONFLICT, _NO_CASE_ROLE + "a system administrator"),
    pg_trigger("agencies_sysadmin_no_case_role", "BEFORE UPDATE OF is_superuser, is_staff ON auth_user",
               "agencies_sysadmin_no_case_role_check"),
]
_POSTGRESQL_REMOVE = [
    "DROP TRIGGER IF EXISTS agencies_sysadmin_no_case_role ON auth_user",
    "DROP FUNCTION IF EXISTS agencies_sysadmin_no_case_role_check()",
    "DROP TRIGGER IF EXISTS agencies_analyst_no_case_role ON agencies_analystscope",
    "DROP FUNCTION IF EXISTS agencies_no_case_role_check()",
    "DROP TRIGGER IF EXISTS agencies_group_member ON auth_user_groups",
    "DROP FUNCTION IF EXISTS agencies_group_member_check()",
    "DROP TRIGGER IF EXISTS agencies_membership_groups ON agencies_membership",
    "DROP FUNCTION IF EXISTS agencies_membership_groups_follow()",
    "DROP TRIGGER IF EXISTS agencies_membership_roles ON agencies_membership",
    "DROP FUNCTION IF EXISTS agencies_membership_roles_check()",
]

_SQLITE_CASE_ROLE_CONFLICT = """
    EXISTS (SELECT 1 FROM auth_user WHERE id = NEW.user_id AND (is_superuser OR is_staff))
    OR EXISTS (SELECT 1 FROM agencies_analystscope WHERE user_id = NEW.user_id)
    OR EXISTS (SELECT 1 FROM agencies_membership WHERE user_id = NEW.user_id AND role = 'agency_admin'
               AND id <> NEW.id)
"""
_SQLITE_ADMIN_CONFLICT = """
    EXISTS (SELECT 1 FROM agencies_membership WHERE user_id = NEW.user_id AND role IN ('responder', 'supervisor')
            AND id <> NEW.id)
"""
_SQLITE_DELETE_GROUPS = """
    DELETE FROM auth_user_groups WHERE user_id = OLD.user_id AND group_id IN (
        SELECT group_id FROM agencies_agencygroup WHERE agency_id = OLD.agency_id AND role = OLD.role);
"""


def _both(name: str, table: str, message: str, condition: str) -> list[str]:
    """The check for INSERT and for UPDATE: SQLite has no INSERT OR UPDATE."""
    return [sqlite_check(f"{name}_{op.lower()}", f"BEFORE {op} ON {table}", message, condition)
            for op in ("INSERT", "UPDATE")]


_SQLITE_INSTALL = [
    *_both("agencies_membership_roles", "agencies_membership", _NO_CASE_ROLE + "an analyst, agency admin or sysadmin",
           f"NEW.role IN ('responder', 'supervisor') AND ({_SQLITE_CASE_ROLE_CONFLICT})"),
    *_both("agencies_membership_admin", "agencies_membership", "an agency admin cannot be a responder or supervisor",
           f"NEW.role = 'agency_admin' AND ({_SQLITE_ADMIN_CONFLICT})"),
    f"""
    CREATE TRIGGER agencies_membership_groups_update AFTER UPDATE ON agencies_membership
    WHEN OLD.role <> NEW.role OR OLD.user_id <> NEW.user_id OR OLD.agency_id <> NEW.agency_id
    BEGIN {_SQLITE_DELETE_GROUPS} END
    """,
    f"""
    CREATE TRIGGER agencies_membership_groups_delete AFTER DELETE ON agencies_membership
    BEGIN {_SQLITE_DELETE_GROUPS} END
    """,
    *_both("agencies_group_member", "auth_user_groups", "an agency group member needs the matching membership",
           _GROUP_CONFLICT),
    *_both("agencies_analyst_no_case_role", "agencies_analystscope", _NO_CASE_ROLE + "an analyst",
           _ANALYST_CONFLICT),
    sqlite_check(
        "agencies_sysadmin_no_case_role", "BEFORE UPDATE OF is_superuser, is_staff ON auth_user",
        _NO_CASE_ROLE + "a system administrator",
        _SYSADMIN_CONFLICT,
    ),
]
_SQLITE_REMOVE = sqlite_drops(_SQLITE_INSTALL)


_INSTALL = {"postgresql": _POSTGRESQL_INSTALL, "sqlite": _SQLITE_INSTALL}
_REMOVE = {"postgresql": _POSTGRESQL_REMOVE, "sqlite": _SQLITE_REMOVE}


def _statements(vendor: str, *, install: bool) -> list[str]:
    return vendor_statements(vendor, _INSTALL if install else _REMOVE, "The membership triggers")


class VendorTriggers(Operation):
    """Migration operation: install (and, backwards, remove) the triggers `statements(vendor,
    install=...)` gives for whichever backend the migration runs on, where `model` (app label,
    model name) is migrated. Subclasses name the model, the statements and the description."""

    reversible = True
    reduces_to_sql = True
    model: tuple[str, str] = ("agencies", "Membership")
    description = ""

    def statements(self, vendor: str, *, install: bool) -> list[str]:
        raise NotImplementedError

    def state_forwards(self, app_label, state):
        pass

    def _run(self, schema_editor, state, *, install: bool) -> None:
        if self.allow_migrate_model(schema_editor.connection.alias, state.apps.get_model(*self.model)):
            for sql in self.statements(schema_editor.connection.vendor, install=install):
                schema_editor.execute(sql, params=None)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._run(schema_editor, to_state, install=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._run(schema_editor, from_state, install=False)

    def describe(self):
        return self.description


class InstallMembershipTriggers(VendorTriggers):
    """The triggers that keep agency groups and case roles derived from memberships."""

    model = ("agencies", "Membership")
    description = "Install the triggers that keep agency groups and case roles derived from memberships"

    def statements(self, vendor: str, *, install: bool) -> list[str]:
        return _statements(vendor, install=install)
