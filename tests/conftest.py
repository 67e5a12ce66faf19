"""Shared fixtures: the people of healthchecks' alice/bob/charlie, HopLuc-style.

`world` builds two provinces, a lead agency (police), a receiving agency (health), an unrelated
agency (education, other province), and users in every role, through the real services.
"""

import copy
import datetime
import socket
import threading
import time
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone, translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.models import Agency, AgencyGroup, AnalystScope, Membership, Province, Role, Sector
from agencies.services import agency_create, agency_group_name, membership_add

PASSWORD = "correct-horse-battery-staple"

# What the second-factor gate finds in a session signed in by client.login()/force_login() in tests:
# the session counts as having given a code. Tests of the second factor itself opt out with
# @pytest.mark.real_second_factor and go through the code step.
TEST_SECOND_FACTOR_MARK = "tests.client_login"


def mark_session_second_factor_verified(client) -> None:
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TEST_SECOND_FACTOR_MARK
    session.save()


def authenticator_for(user) -> TOTPDevice:
    """The user's confirmed authenticator, enrolled here with a random secret when they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return device


def current_code(device: TOTPDevice) -> str:
    """The code the person's phone would show now. The device forgets the last step used, so one
    test may sign the same person in twice within 30 seconds."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0,
                                                   throttling_failure_timestamp=None)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def sign_in(client, username: str, password: str = PASSWORD, **extra):
    """Sign in through the form as a person would: the password, then (where needed) the code step
    with an authenticator enrolled for the test. Returns the last response, redirects followed."""
    response = client.post("/login/", {"username": username, "password": password, **extra}, follow=True)
    path = response.redirect_chain[-1][0] if response.redirect_chain else ""
    if path.startswith(("/login/code/", "/account/second-factor/")):
        user = get_user_model().objects.get(username=username)
        device = authenticator_for(user)
        next_path = response.context["next"] if response.context and "next" in response.context else ""
        response = client.post("/login/code/", {"code": current_code(device), "next": next_path}, follow=True)
    return response


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_use_migrations, django_db_keepdb,
                    django_db_createdb, django_db_modify_db_settings):
    """pytest-django's, except under pytest-xdist: there each worker runs on its own copy of one test
    database migrated once for the run (tests/support/template_db.py) instead of migrating its own."""
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _get_databases_for_setup

    from tests.support.template_db import setup_cloned_databases, teardown_cloned_databases

    workerinput = getattr(request.config, "workerinput", None)
    verbosity = request.config.option.verbose
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    if workerinput is None or django_db_keepdb or not django_db_use_migrations or not aliases:
        # pytest-django's own (django_db_setup in pytest_django/fixtures.py), for the options it takes.
        if not django_db_use_migrations:
            from pytest_django.fixtures import _disable_migrations

            _disable_migrations()
        keepdb = django_db_keepdb and not django_db_createdb
        with django_db_blocker.unblock():
            db_cfg = setup_databases(verbosity=verbosity, interactive=False, aliases=aliases,
                                     serialized_aliases=serialized_aliases, keepdb=keepdb)
            if not keepdb:
                _note_migrated_state()
        yield
        if not django_db_keepdb:
            with django_db_blocker.unblock():
                teardown_databases(db_cfg, verbosity=verbosity)
        return
    run_id = workerinput["testrunuid"]
    with django_db_blocker.unblock():
        old_config = setup_cloned_databases(run_id=run_id, worker_id=workerinput["workerid"], aliases=aliases,
                                            serialized_aliases=serialized_aliases, verbosity=verbosity)
        _note_migrated_state()
    yield
    with django_db_blocker.unblock():
        teardown_cloned_databases(run_id=run_id, old_config=old_config, verbosity=verbosity)


# The tables that hold rows in the freshly migrated test database (None: not known, as with --reuse-db).
MIGRATED_TABLES_WITH_ROWS: set[str] | None = None


def _note_migrated_state() -> None:
    global MIGRATED_TABLES_WITH_ROWS
    from django.db import connection

    from config.testing.management.commands.flush import tables_with_rows

    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    MIGRATED_TABLES_WITH_ROWS = set(tables_with_rows(connection, sorted(tables)))


@pytest.fixture
def english():
    """English as the active language, for a module that asserts messages in English whatever
    translations the catalogue gains."""
    with translation.override("en"):
        yield


@pytest.fixture
def english_pages(settings, english):
    """English for the pages too: the default language a request falls back to."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def today() -> datetime.date:
    """The local day (Asia/Ho_Chi_Minh) the test runs on, read as it starts. A module constant would
    hold the day the suite was collected, and be yesterday for every test after 17:00 UTC."""
    return timezone.localdate()


@pytest.fixture(autouse=True)
def _client_logins_give_a_second_factor(request, monkeypatch):
    if request.node.get_closest_marker("real_second_factor"):
        return
    original = Client._login

    def _login(self, user, backend=None):
        original(self, user, backend)
        mark_session_second_factor_verified(self)

    monkeypatch.setattr(Client, "_login", _login)


@pytest.fixture
def api():
    """An API client for a user (None: anonymous), signed in through the session as browsers are."""

    def make(user=None):
        from rest_framework.test import APIClient

        client = APIClient()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def web():
    """A browser-like test client for a user (None: anonymous)."""

    def make(user=None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@dataclass
class World:
    hanoi: Province
    hue: Province
    police: object
    health: object
    school: object
    lead_responder: object
    lead_supervisor: object
    lead_admin: object
    receiving_responder: object
    receiving_supervisor: object
    outsider_responder: object
    outsider_supervisor: object
    analyst: object
    province_analyst: object
    sysadmin: object


def make_user(username: str, **extra):
    User = get_user_model()
    return User.objects.create_user(username=username, password=PASSWORD, **extra)


# The people of the world: username, agency (World field), role.
WORLD_MEMBERS = [
    ("lead_responder", "police", "responder"),
    ("lead_supervisor", "police", "supervisor"),
    ("lead_admin", "police", "agency_admin"),
    ("receiving_responder", "health", "responder"),
    ("receiving_supervisor", "health", "supervisor"),
    ("outsider_responder", "school", "responder"),
    ("outsider_supervisor", "school", "supervisor"),
]


def _world_provinces() -> tuple[Province, Province]:
    hanoi = Province(
        code="01", name="Hà Nội", name_ascii="Ha Noi", abbreviation="HN", type="city", valid_from="2025-07-01"
    )
    hue = Province(code="46", name="Huế", name_ascii="Hue", abbreviation="HUE", type="city", valid_from="2025-07-01")
    return hanoi, hue


def _world_agencies(hanoi: Province, hue: Province) -> dict[str, Agency]:
    return {
        "police": Agency(name="Công an phường Ba Đình", sector=Sector.POLICE, province=hanoi),
        "health": Agency(name="Bệnh viện Đa khoa Hà Nội", sector=Sector.HEALTH, province=hanoi),
        "school": Agency(name="Trường THCS Thuận Hóa", sector=Sector.EDUCATION, province=hue),
    }


def world_through_services() -> World:
    """The world built one row at a time through the services, as an agency admin would build it.
    `world` writes the same rows in a few statements (tests/agencies/test_world_fixture.py compares)."""
    hanoi, hue = _world_provinces()
    hanoi.save()
    hue.save()
    agencies = {}
    for field, agency in _world_agencies(hanoi, hue).items():
        agencies[field] = agency_create(name=agency.name, sector=agency.sector, province=agency.province)
    users = {}
    for name, field, role in WORLD_MEMBERS:
        users[name] = make_user(name)
        membership_add(user=users[name], agency=agencies[field], role=role)
    analyst = make_user("analyst")
    AnalystScope.objects.create(user=analyst, province=None)
    province_analyst = make_user("province_analyst")
    AnalystScope.objects.create(user=province_analyst, province=hanoi)
    sysadmin = get_user_model().objects.create_superuser(username="sysadmin", password=PASSWORD)
    return World(
        hanoi=hanoi, hue=hue, analyst=analyst, province_analyst=province_analyst, sysadmin=sysadmin,
        **agencies, **users,
    )


def world_in_bulk() -> World:
    """The rows of world_through_services(), one INSERT per table: the fixture runs before some 2,000
    tests, and building it row by row through the services (about 160 statements) was the largest
    single cost of the suite. The inputs are fixed, so the services' checks (full_clean, the role
    checks) have nothing to refuse; the database's own checks (constraints, triggers) still run on
    every row. What the services' signals do beyond the rows is done here too: the navigation bar's
    role version of each person given a role (accounts.navigation)."""
    from accounts.navigation import nav_roles_changed_many

    User = get_user_model()
    hanoi, hue = Province.objects.bulk_create(_world_provinces())
    agencies = _world_agencies(hanoi, hue)
    Agency.objects.bulk_create(agencies.values())
    groups = Group.objects.bulk_create(
        Group(name=agency_group_name(agency=agency, role=role)) for agency in agencies.values() for role in Role.values
    )
    groups_iter = iter(groups)
    group_of = {}
    agency_groups = []
    for field, agency in agencies.items():
        for role in Role.values:
            group_of[field, role] = group = next(groups_iter)
            agency_groups.append(AgencyGroup(agency=agency, role=role, group=group))
    AgencyGroup.objects.bulk_create(agency_groups)

    def person(username: str, **extra):
        return User(username=User.normalize_username(username), email="", password=make_password(PASSWORD), **extra)

    users = {name: person(name) for name, _field, _role in WORLD_MEMBERS}
    analyst, province_analyst = person("analyst"), person("province_analyst")
    sysadmin = person("sysadmin", is_staff=True, is_superuser=True)
    User.objects.bulk_create([*users.values(), analyst, province_analyst, sysadmin])
    Membership.objects.bulk_create(
        Membership(user=users[name], agency=agencies[field], role=role) for name, field, role in WORLD_MEMBERS
    )
    User.groups.through.objects.bulk_create(
        User.groups.through(user=users[name], group=group_of[field, role]) for name, field, role in WORLD_MEMBERS
    )
    AnalystScope.objects.bulk_create(
        [AnalystScope(user=analyst, province=None), AnalystScope(user=province_analyst, province=hanoi)]
    )
    nav_roles_changed_many(user_ids=[user.pk for user in [*users.values(), analyst, province_analyst]])
    return World(
        hanoi=hanoi, hue=hue, analyst=analyst, province_analyst=province_analyst, sysadmin=sysadmin,
        **agencies, **users,
    )


@pytest.fixture
def world(db) -> World:
    return world_in_bulk()


@pytest.fixture(scope="module")
def module_transaction(django_db_setup, django_db_blocker):
    """One transaction around the tests of a module, rolled back after its last test: rows that a
    module-scoped fixture writes inside it are there for every test of the module, and each test's own
    writes are still rolled back after it (its `db` is a savepoint inside this transaction), as with
    Django's TestCase.setUpTestData. For rows that take seconds to write and that the module's tests
    read; a function-scoped fixture over it must hand each test a copy of the Python objects
    (copy.deepcopy), which a test may change. The module-scoped fixture writes with the database
    unblocked (`with django_db_blocker.unblock():`). Not for a module with transactional tests."""
    from django.db import connection, transaction

    with django_db_blocker.unblock():
        if connection.in_atomic_block:
            raise RuntimeError("module_transaction must begin before the test's own transaction")
        atomic = transaction.atomic()
        # As Django's TestCase marks its class-wide atomic: the services' durable atomic blocks
        # (atomic(durable=True)) may run inside it, as they run inside each test's.
        atomic._from_testcase = True
        atomic.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def time_limits_ensure() -> None:
    """Load the legal time limits (handoffs and case deadlines are counted by them) when they are missing:
    the data migration writes them, and the flush after a transactional test removes them."""
    from notifications.loaders import time_limit_load_reference
    from notifications.models import LegalTimeLimit

    if not LegalTimeLimit.objects.exists():
        time_limit_load_reference()


@pytest.fixture
def module_built(db, built_once):
    """For one test, a copy (copy.deepcopy) of what its module wrote once: the module's own module-scoped
    `built_once` fixture, which writes inside module_transaction and returns the objects its tests use.
    The test's writes are rolled back after it, and the copy keeps its changes to those objects from the
    next test. The module names the parts its tests take with module_built_part."""
    return copy.deepcopy(built_once)


def module_built_part(name: str):
    """A fixture `name` that gives module_built's attribute `name` (`world = module_built_part("world")`)."""

    @pytest.fixture(name=name)
    def part(module_built):
        return getattr(module_built, name)

    return part


@pytest.fixture
def silent_port():
    """A port on loopback that accepts TCP connections and never says a word, like a hung server."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted, stop = [], threading.Event()

    def accept_forever():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


@pytest.fixture
def one_month_of_demo_reports(monkeypatch):
    """`seed_demo` publishes one month of demo reports instead of 12 (most of its time): for tests of
    other demo steps. The reports step is tested at full size in tests/reports/test_demo.py."""
    from reports import demo as reports_demo

    monkeypatch.setattr(reports_demo, "DEMO_REPORT_MONTHS", 1)


@pytest.fixture
def seed_demo_small(monkeypatch, one_month_of_demo_reports):
    """`seed_demo` with every registered step, but 12 demo cases instead of 120 and one month of demo
    reports: for tests of the rest of the demo world, which would otherwise spend minutes opening
    cases. The cases step is tested at full size in tests/cases/test_demo.py."""
    import functools

    from agencies import demo
    from cases.demo import seed_demo_cases_step

    steps = [functools.partial(seed_demo_cases_step, count=12) if step is seed_demo_cases_step else step
             for step in demo._registered_steps]
    assert steps != demo._registered_steps, "the cases' demo step is no longer registered"
    monkeypatch.setattr(demo, "_registered_steps", steps)


# Tests that mostly wait (a browser, real worker processes, servers, the clock): tens of seconds each
# at a few percent of a core. pytest-django sorts them, being transactional, to the end of the run, where
# a few of them made a long tail with one process busy and the cores idle.
WAITING_MARKERS = ("browser", "worker")


def _waits(item) -> bool:
    return any(item.get_closest_marker(name) for name in WAITING_MARKERS)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Spread the waiting tests evenly over the first half of the run, one every `step` tests, so that under
    pytest-xdist (`make test` hands out one test at a time: --maxschedchunk=1) about one process at a time
    waits while the others keep the cores busy, and none of them is left for the end.

    Any order is safe: a transactional test's flush leaves the migrated state (config.testing's flush:
    content types, permissions and the legal time limits; no migration loads other rows here), which
    tests/ops/test_flush_only_in_tests.py checks."""
    waiting = [item for item in items if _waits(item)]
    if not waiting or len(waiting) == len(items):
        return
    rest = [item for item in items if not _waits(item)]
    step = max(1, len(rest) // (2 * len(waiting)))
    ordered = []
    for index, item in enumerate(rest):
        if index % step == 0 and waiting:
            ordered.append(waiting.pop(0))
        ordered.append(item)
    items[:] = ordered + waiting
