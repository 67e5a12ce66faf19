"""The production description (compose, Dockerfile, Procfiles) and the README agree with each other.

Docker cannot run here, so these read the files; what they pin down is what a reviewer would check.
"""

import re

import pytest
import yaml

from .conftest import BASE_DIR

PROCESSES = ("web", "worker", "beat")


def procfile(name: str) -> dict[str, str]:
    entries = {}
    for line in (BASE_DIR / name).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            process, _, command = line.partition(":")
            entries[process.strip()] = command.strip()
    return entries


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def test_compose_describes_the_five_services_each_with_a_healthcheck(compose):
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    for name in ("postgres", "redis", "web", "worker", "beat"):
        assert services[name]["healthcheck"]["test"], name


def test_postgres_runs_with_the_settings_the_readme_names(compose):
    """Issue 15: no JIT on short queries, sort memory for a page, autovacuum that keeps up."""
    command = compose["services"]["postgres"]["command"]
    settings = dict(arg.split("=", 1) for arg in command if "=" in arg)
    assert settings["jit"] == "off"
    readme = (BASE_DIR / "README.md").read_text()
    for name, value in settings.items():
        assert f"`{name}`" in readme and value in readme, name


def test_exactly_one_beat_and_workers_that_can_be_scaled(compose):
    services = compose["services"]
    assert services["beat"]["deploy"]["replicas"] == 1
    worker = services["worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert "deploy" not in worker or worker["deploy"].get("replicas", 1) >= 1


def test_compose_runs_the_procfile_commands_exactly(compose):
    production = procfile("Procfile")
    assert set(production) == set(PROCESSES)
    for name in PROCESSES:
        assert compose["services"][name]["command"] == production[name], name


def test_make_run_starts_worker_and_beat_as_production_does():
    development, production = procfile("Procfile.dev"), procfile("Procfile")
    assert set(development) == set(PROCESSES)
    assert development["worker"] == production["worker"]
    assert development["beat"] == production["beat"]
    assert development["web"].startswith("python manage.py runserver ")


def test_app_services_wait_for_healthy_databases_and_migrations(compose):
    services = compose["services"]
    for name in PROCESSES:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    migrate = services["migrate"]
    assert migrate["command"] == "python manage.py migrate --noinput"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["restart"] == "no"


def test_production_settings_and_secrets_come_from_the_environment_with_no_default(compose):
    for name in ("migrate", *PROCESSES):
        env = compose["services"][name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")
        for secret in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "SEARCH_HASH_KEY", "AUDIT_ANCHOR_KEYS"):
            # ${NAME:?message} stops compose when the variable is unset; ":-" would be a default.
            assert re.fullmatch(rf"\$\{{{secret}:\?[^}}]+\}}", env[secret]), (name, secret)
    postgres_password = compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert re.fullmatch(r"\$\{POSTGRES_PASSWORD:\?[^}]+\}", postgres_password)


def test_data_lives_in_named_volumes(compose):
    assert {"postgres-data", "redis-data"} <= set(compose["volumes"])
    assert "postgres-data:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]
    assert "redis-data:/data" in compose["services"]["redis"]["volumes"]


def test_dockerfile_builds_a_slim_image_that_runs_as_a_user():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert "pip install -r requirements.in -c requirements.lock" in dockerfile
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "collectstatic --noinput" in dockerfile


def settings_environment_variables() -> set[str]:
    names = set()
    for path in (BASE_DIR / "config" / "settings").glob("*.py"):
        names |= set(re.findall(r"(?:\benv|Env\(\))\.\w+\(\s*\"([A-Z][A-Z0-9_]+)\"", path.read_text()))
    return names


def test_readme_configuration_table_lists_every_variable_the_settings_read():
    readme = (BASE_DIR / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", readme, re.M))
    read = settings_environment_variables()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "PORT", "EMAIL_HOST", "SMS_BACKEND"} <= read
    assert not read - documented, f"settings read variables the README does not describe: {sorted(read - documented)}"
    # Read by Django itself, the Procfiles and the Makefile rather than by the settings.
    stale = documented - read - {"DJANGO_SETTINGS_MODULE", "WEB_CONCURRENCY", "WORKER_CONCURRENCY", "HOST"}
    assert not stale, f"README describes variables nothing reads: {sorted(stale)}"


def test_readme_names_the_demo_logins_and_the_two_commands():
    readme = (BASE_DIR / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    for login in ("hn.police.responder", "hcm.social_work.supervisor", "hue.admin", "analyst.national", "sysadmin"):
        assert login in readme
    assert "hopluc-demo-2026" in readme


def _database_user(url: str) -> tuple[str, str]:
    match = re.fullmatch(r"postgres://([a-z_]+):(\$\{[A-Z_]+:\?[^}]+\})@postgres:5432/hopluc", url)
    assert match, url
    return match.group(1), match.group(2)


def test_the_application_runs_as_a_role_that_owns_no_table(compose):
    """migrate logs in as the tables' owner and keeps the application role in step; web, worker and
    beat log in as that application role, with a password of their own from the environment."""
    services = compose["services"]
    owner = services["postgres"]["environment"]["POSTGRES_USER"]
    migrate = services["migrate"]["environment"]
    migrate_user, migrate_password = _database_user(migrate["DATABASE_URL"])
    assert migrate_user == owner
    assert migrate_password.startswith("${POSTGRES_PASSWORD:?")
    app_role = migrate["DATABASE_APP_ROLE"]
    assert app_role and app_role != owner
    assert re.fullmatch(r"\$\{POSTGRES_APP_PASSWORD:\?[^}]+\}", migrate["DATABASE_APP_PASSWORD"])
    for name in PROCESSES:
        env = services[name]["environment"]
        user, password = _database_user(env["DATABASE_URL"])
        assert user == app_role, name
        assert password.startswith("${POSTGRES_APP_PASSWORD:?"), name
        # Only migrate manages the role; the processes never hold the owner's password.
        assert "DATABASE_APP_ROLE" not in env and "DATABASE_APP_PASSWORD" not in env, name
        assert "POSTGRES_PASSWORD" not in str(env), name
    # The same settings for the rest (secrets, broker): migrate only changes who it logs in as.
    shared = {k: v for k, v in migrate.items() if not k.startswith("DATABASE_")}
    assert shared == {k: v for k, v in services["web"]["environment"].items()
                      if not k.startswith("DATABASE_") and k != "PORT"}


def test_readme_documents_the_database_roles():
    readme = (BASE_DIR / "README.md").read_text()
    section = readme[readme.index("### Database roles"):readme.index("## Scaling out")]
    for needed in ("hopluc_app", "POSTGRES_APP_PASSWORD", "DATABASE_APP_ROLE", "ALTER DEFAULT PRIVILEGES",
                   "DISABLE TRIGGER", "TRUNCATE", "tests/ops/test_database_roles.py"):
        assert needed in section, needed
    example = (BASE_DIR / ".env.example").read_text()
    assert re.search(r"^POSTGRES_APP_PASSWORD=$", example, re.M)
