"""Part 7 of issue 11: the `flush` that lifts the audit trail's append-only triggers exists under
the test settings only; production's `flush` is Django's own, which the triggers refuse."""

import importlib.util
import os

import pytest
from django.conf import settings
from django.core.management import call_command, find_commands, get_commands

from .conftest import settings_of
from .test_settings import production_env


def flush_command_app(installed_apps: list[str]) -> str:
    """The app whose `flush` manage.py runs with these apps, found as Django's get_commands() finds it (the
    first installed app with a management/commands/flush.py, else Django's own), without loading the apps."""
    for app in installed_apps:
        spec = importlib.util.find_spec(app)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            if "flush" in find_commands(os.path.join(folder, "management")):
                return app
    return "django.core"


def test_the_test_settings_have_the_trigger_lifting_flush():
    assert get_commands()["flush"] == "config.testing"
    # The same answer as Django's, found from the settings alone (as for production below).
    assert flush_command_app(settings.INSTALLED_APPS) == "config.testing"


def test_production_and_development_settings_do_not(tmp_path):
    for env in (production_env(tmp_path), production_env(tmp_path, DJANGO_SETTINGS_MODULE="config.settings.dev")):
        installed_apps = settings_of(env, "INSTALLED_APPS")["INSTALLED_APPS"]
        assert "config.testing" not in installed_apps
        assert flush_command_app(installed_apps) == "django.core"


def _rows_by_table() -> dict[str, int]:
    from django.db import connection

    quote = connection.ops.quote_name
    tables = set(connection.introspection.django_table_names(only_existing=True, include_views=False))
    tables |= set(connection.introspection.table_names()) - {"django_migrations"}  # and those kept by triggers
    with connection.cursor() as cursor:
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 - the models' table names
            counts[table] = cursor.fetchone()[0]
    return counts


@pytest.mark.django_db(transaction=True)
def test_the_flush_after_a_transactional_test_leaves_the_migrated_state_and_the_triggers(world):
    """What a transactional test's teardown runs (TransactionTestCase._fixture_teardown): only the tables
    with rows are emptied, the content types and permissions stay as post_migrate writes them, and the
    audit trail is append-only again afterwards."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db import IntegrityError, connection, transaction

    from audit.models import AuditEvent
    from audit.services import audit_record
    from notifications.models import LegalTimeLimit
    from tests.handoffs.conftest import consented_case

    migrated = {"types": set(ContentType.objects.values_list("pk", "app_label", "model")),
                "permissions": set(Permission.objects.values_list("pk", "codename", "content_type_id")),
                "time_limits": LegalTimeLimit.objects.count()}
    assert migrated["types"] and migrated["permissions"] and migrated["time_limits"]
    consented_case(world)
    Permission.objects.filter(codename="view_case").delete()  # post_migrate writes it back
    LegalTimeLimit.objects.all().delete()
    full = {table for table, count in _rows_by_table().items() if count}
    assert {AuditEvent._meta.db_table, "cases_case", "auth_user"} <= full

    call_command("flush", verbosity=0, interactive=False, reset_sequences=False, allow_cascade=False,
                 inhibit_post_migrate=False)

    left = {table: count for table, count in _rows_by_table().items() if count}
    assert set(left) == {ContentType._meta.db_table, Permission._meta.db_table, LegalTimeLimit._meta.db_table}
    # ... which is the freshly migrated database's state, so tests may run in any order
    # (tests/conftest.py spreads the waiting ones over the run).
    from tests import conftest

    if conftest.MIGRATED_TABLES_WITH_ROWS is not None:
        assert set(left) == conftest.MIGRATED_TABLES_WITH_ROWS
    assert set(ContentType.objects.values_list("pk", "app_label", "model")) == migrated["types"]
    permissions = set(Permission.objects.values_list("codename", "content_type_id"))
    assert permissions == {(codename, type_id) for _pk, codename, type_id in migrated["permissions"]}
    assert LegalTimeLimit.objects.count() == migrated["time_limits"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW session_replication_role")
            assert cursor.fetchone()[0] == "origin"
    audit_record(actor=None, action="view")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 1
