"""Settings: production passes `check --deploy` cleanly and refuses development defaults."""

import json
import secrets
import sys
import warnings

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.test import Client

from config.celery import app as celery_app

from .conftest import BASE_DIR, manage, process_env, settings_of

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "FIELD_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
    "SEARCH_HASH_KEY": secrets.token_urlsafe(48),
    "AUDIT_ANCHOR_KEYS": secrets.token_urlsafe(48),
    # check --deploy never connects: nothing needs to listen on these ports.
    "DATABASE_URL": "postgres://hopluc:secret@127.0.0.1:5432/hopluc",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "hopluc.example.gov.vn",
    "SITE_URL": "https://hopluc.example.gov.vn",
    "DEBUG": None,
}


def production_env(tmp_path, **overrides):
    return process_env(tmp_path, **{**PRODUCTION, **overrides})


def test_production_check_deploy_prints_no_warning(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The one silenced check is guardian.W001 ("backend not hooked"): its backend is left out on purpose.
    assert "System check identified no issues (1 silenced)." in output
    assert "WARNING" not in output and "Warning" not in output, output


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY is the development default or too weak"),
        ({"SECRET_KEY": "dev-insecure-hopluc-secret-key-change-me"}, "SECRET_KEY is the development default"),
        ({"SECRET_KEY": "short-but-random-Zq81"}, "set SECRET_KEY to a random value of at least 50 characters"),
        ({"DEBUG": "1"}, "DEBUG is on in config.settings.production"),
        ({"DEBUG": "true"}, "Unset DEBUG or set DEBUG=0"),
        ({"FIELD_ENCRYPTION_KEYS": None}, "FIELD_ENCRYPTION_KEYS holds the public development key"),
        ({"FIELD_ENCRYPTION_KEYS": "not-a-fernet-key"}, "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key"),
        ({"SEARCH_HASH_KEY": None}, "SEARCH_HASH_KEY is the public development key"),
        ({"AUDIT_ANCHOR_KEYS": None}, "AUDIT_ANCHOR_KEYS holds the public development key"),
        ({"AUDIT_ANCHOR_KEYS": "too-short"}, "AUDIT_ANCHOR_KEYS holds the public development key or a key shorter"),
        ({"ALLOWED_HOSTS": None}, "Set ALLOWED_HOSTS"),
        ({"DATABASE_URL": None}, "Set DATABASE_URL to a PostgreSQL database"),
        ({"REDIS_URL": None}, "Set REDIS_URL"),
        ({"SITE_URL": None}, "Set SITE_URL"),
        ({"HEALTHZ_DETAIL_TOKEN": "guessable"}, "HEALTHZ_DETAIL_TOKEN must be empty or at least 32"),
    ],
    ids=[
        "no-key", "default-key", "short-key", "debug-1", "debug-true",
        "dev-field-key", "bad-field-key", "dev-hash-key", "dev-anchor-key", "short-anchor-key",
        "no-hosts", "sqlite", "no-redis", "no-site",
        "short-health-token"],
)
def test_production_refuses_to_start_with_development_defaults(tmp_path, overrides, message):
    result = manage("check", env=production_env(tmp_path, **overrides))
    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: " in result.stderr
    assert message in result.stderr.strip().splitlines()[-1]


def test_visibility_timeout_shorter_than_a_task_may_run_is_refused(tmp_path):
    result = manage("check", env=process_env(tmp_path, CELERY_VISIBILITY_TIMEOUT="60"))
    assert result.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT (60 s) must exceed the task time limit" in result.stderr


CELERY_CONF = """
import json
import django
django.setup()
from config.celery import app
c = app.conf
print(json.dumps({
    "broker_url": c.broker_url, "result_backend": c.result_backend,
    "broker_transport_options": c.broker_transport_options,
    "result_backend_transport_options": c.result_backend_transport_options,
    "acks_late": c.task_acks_late, "prefetch": c.worker_prefetch_multiplier,
    "eager": c.task_always_eager, "time_limit": c.task_time_limit, "soft_time_limit": c.task_soft_time_limit,
    "timezone": c.timezone, "beat_schedule": sorted(c.beat_schedule),
    "transport": type(app.connection_for_write().transport).__module__,
    # Another broker's URL (a drill's, a test's) keeps its own transport whatever the settings' broker.
    "redis_url_transport": type(app.connection_for_write("redis://127.0.0.1:1/0").transport).__module__,
}))
"""


def celery_conf(env) -> dict:
    import subprocess

    result = subprocess.run([sys.executable, "-c", CELERY_CONF], cwd=BASE_DIR, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_celery_on_redis_uses_one_visibility_timeout_for_broker_and_results(tmp_path):
    conf = celery_conf(process_env(tmp_path, REDIS_URL="redis://127.0.0.1:6379/5", CELERY_VISIBILITY_TIMEOUT="7200"))
    assert conf["broker_url"] == conf["result_backend"] == "redis://127.0.0.1:6379/5"
    assert conf["broker_transport_options"]["visibility_timeout"] == 7200
    assert conf["result_backend_transport_options"]["visibility_timeout"] == 7200
    assert conf["soft_time_limit"] < conf["time_limit"] < 7200
    assert conf["acks_late"] is True and conf["prefetch"] == 1 and conf["eager"] is False
    assert conf["timezone"] == "Asia/Ho_Chi_Minh"
    assert conf["transport"] == conf["redis_url_transport"] == "kombu.transport.redis"


def test_celery_embedded_default_keeps_every_broker_folder_in_the_var_dir(tmp_path):
    conf = celery_conf(process_env(tmp_path, REDIS_URL=None))
    assert conf["broker_url"].startswith("filesystem://")
    # kombu's filesystem transport with whole-written messages (test_worker.py).
    assert conf["transport"] == "config.filesystem_broker"
    assert conf["redis_url_transport"] == "kombu.transport.redis"
    assert conf["result_backend"] == f"file://{tmp_path / 'broker' / 'results'}"
    for key in ("data_folder_in", "data_folder_out", "control_folder", "processed_folder"):
        assert conf["broker_transport_options"][key].startswith(str(tmp_path / "broker")), key
    assert conf["acks_late"] is True and conf["prefetch"] == 1 and conf["eager"] is False


def test_every_beat_schedule_entry_names_a_registered_task():
    celery_app.loader.import_default_modules()
    missing = {
        name: entry["task"]
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"] not in celery_app.tasks
    }
    assert not missing, f"beat would send tasks no worker knows: {missing}"


def test_language_and_time_zone():
    assert settings.LANGUAGE_CODE == "vi"
    assert [code for code, _ in settings.LANGUAGES] == ["vi", "en"]
    assert settings.TIME_ZONE == "Asia/Ho_Chi_Minh" and settings.USE_TZ


@pytest.mark.django_db
def test_static_files_are_served_without_collectstatic_and_without_a_warning(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "never-collected"
    with warnings.catch_warnings():
        # whitenoise warns "No directory at ..." when it scans a STATIC_ROOT that does not exist.
        warnings.simplefilter("error")
        client = Client()
        assert client.get("/healthz").status_code == 200
        response = client.get("/static/css/hopluc.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")


def test_each_vocabulary_of_our_apps_names_one_openapi_enum():
    from agencies.models import Sector

    names = dict(settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"])
    assert names["SectorEnum"] in (Sector, "agencies.models.Sector")
    # Library vocabularies (Django's, DRF's) are not renamed.
    assert all(isinstance(v, str) or v.__module__.partition(".")[0] not in {"django", "rest_framework"}
               for v in names.values())


def database_options(env) -> dict:
    return {alias: db.get("OPTIONS", {}) for alias, db in settings_of(env, "DATABASES")["DATABASES"].items()}


def test_prepared_statements_are_on_by_default_on_postgresql(tmp_path):
    """Server-side binding and prepared statements are on by default on PostgreSQL, in production as in
    development and the tests, for the primary and the replica alike; DATABASE_SERVER_SIDE_BINDING=0 turns
    them off (client-side binding, as Django does, for PgBouncer in transaction mode before 1.21)."""
    urls = {"DATABASE_URL": "postgres://u@db.invalid:5432/hopluc", "REPLICA_DATABASE_URL": "postgres://u@r.invalid/hopluc"}
    for module in ("config.settings.dev", "config.settings.production"):
        environment = {**(PRODUCTION if module.endswith("production") else {}), **urls,
                       "DJANGO_SETTINGS_MODULE": module, "DATABASE_SERVER_SIDE_BINDING": None}
        on = database_options(process_env(tmp_path, **environment))
        assert set(on) == {"default", "replica"}, module
        for options in on.values():
            assert options["server_side_binding"] is True and options["prepare_threshold"] == 5, module
    urls["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    off = database_options(process_env(tmp_path, **urls, DATABASE_SERVER_SIDE_BINDING="0"))
    for options in off.values():
        assert "server_side_binding" not in options and "prepare_threshold" not in options
    assert database_options(process_env(tmp_path, **urls, DATABASE_SERVER_SIDE_BINDING=None,
                                        DATABASE_PREPARE_THRESHOLD="2"))["default"]["prepare_threshold"] == 2
    # Not for SQLite, which has no such options.
    sqlite = database_options(process_env(tmp_path, DATABASE_URL="", REPLICA_DATABASE_URL=None,
                                          DATABASE_SERVER_SIDE_BINDING="1",
                                          DJANGO_SETTINGS_MODULE="config.settings.dev"))
    assert "server_side_binding" not in sqlite["default"]


@pytest.mark.django_db
def test_the_postgresql_suite_binds_on_the_server_and_a_repeated_statement_is_prepared():
    """The PostgreSQL suite runs with the production default, server-side binding, so a query PostgreSQL
    refuses with bound parameters fails the tests that run it (as `dates()` followed by `values_list()`
    did: DATE_TRUNC's parameter bound twice, in SELECT DISTINCT and in ORDER BY, is two parameters to
    PostgreSQL). A statement run past the threshold is prepared on the server and answers as with
    client-side binding, which never prepares."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    from django.db.backends.postgresql.base import DatabaseWrapper

    from agencies.models import Agency

    assert connection.features.uses_server_side_binding
    connection.ensure_connection()
    assert connection.connection.prepare_threshold == settings.DATABASE_PREPARED_STATEMENTS["prepare_threshold"]
    client_side = {name: value for name, value in connection.settings_dict["OPTIONS"].items()
                   if name not in settings.DATABASE_PREPARED_STATEMENTS}
    client = DatabaseWrapper({**connection.settings_dict, "OPTIONS": client_side}, alias="client_side")
    prepared = DatabaseWrapper({**connection.settings_dict, "OPTIONS": {
        **client_side, "server_side_binding": True, "prepare_threshold": 2}}, alias="prepared")
    query = 'SELECT "id", "name" FROM "agencies_agency" WHERE "id" >= %s ORDER BY "id"'
    count_prepared = "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s"
    try:
        assert not client.features.uses_server_side_binding
        with client.cursor() as cursor:
            for _ in range(4):
                cursor.execute(query, [0])
                expected = cursor.fetchall()
            cursor.execute(count_prepared, ['%"agencies_agency"%'])
            assert cursor.fetchone()[0] == 0
        with prepared.cursor() as cursor:
            for _ in range(4):
                cursor.execute(query, [0])
                assert cursor.fetchall() == expected
            cursor.execute(count_prepared, ['%"agencies_agency"%'])
            assert cursor.fetchone()[0] == 1
        assert Agency.objects.count() == len(expected)
    finally:
        client.close()
        prepared.close()
