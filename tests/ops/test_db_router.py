"""The read-replica router (config/db_router.py): what reads where, and nothing without a replica.

The test settings carry a `replica` alias that mirrors the test database (a second connection to the
same PostgreSQL database) with the router switched off; these tests switch it on.
"""


import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connections, router, transaction
from django.test.utils import CaptureQueriesContext

from agencies.models import Agency, AnalystScope, Membership
from audit.models import AuditEvent
from cases.models import Case, CaseAccessRow, CaseKey, Consent, Incident
from config import db_router
from config.db_router import replica_configured, replica_lag_seconds, replica_reads
from handoffs.models import Handoff
from notifications.models import Deadline
from permissions.models import BreakGlassUse
from privacy.models import Breach, LegalHold
from reports.models import MonthlyReport
from tests.support.replica import needs_replica

from .conftest import process_env, settings_of
from .test_settings import production_env

BOTH = ["default", "replica"]
REPORTED = [Case, Incident, Handoff, Deadline, Agency, AuditEvent, MonthlyReport]
ACCESS_AND_SECRETS = [get_user_model(), Session, Membership, AnalystScope, CaseAccessRow, CaseKey, Consent,
                      BreakGlassUse, LegalHold, Breach]


@pytest.fixture
def replica_on(settings):
    settings.DATABASE_REPLICA_READS = True
    settings.REPLICA_MAX_LAG_SECONDS = 30


@needs_replica
@pytest.mark.django_db(databases=BOTH)
def test_reads_go_to_the_replica_only_inside_replica_reads_and_never_for_access(replica_on):
    assert all(router.db_for_read(m) == "default" for m in REPORTED + ACCESS_AND_SECRETS)
    with replica_reads() as used:
        assert used is True
        assert {m.__name__: router.db_for_read(m) for m in REPORTED} == {m.__name__: "replica" for m in REPORTED}
        assert {m.__name__: router.db_for_read(m) for m in ACCESS_AND_SECRETS} == {
            m.__name__: "default" for m in ACCESS_AND_SECRETS}
        assert {router.db_for_write(m) for m in REPORTED + ACCESS_AND_SECRETS} == {"default"}
        # A read inside a transaction decides a write: it sees the primary's own rows.
        with transaction.atomic():
            assert router.db_for_read(Case) == "default"
        assert router.db_for_read(Case) == "replica"
        assert Case.objects.all().db == "replica" and Case.objects.select_for_update().db == "default"
    assert router.db_for_read(Case) == "default"


@needs_replica
@pytest.mark.django_db(databases=BOTH)
def test_migrations_run_on_the_primary_only(replica_on):
    assert router.allow_migrate("default", "cases", model_name="case") is True
    assert router.allow_migrate("replica", "cases", model_name="case") is False


@needs_replica
@pytest.mark.django_db(databases=BOTH)
def test_a_lagging_or_unreachable_replica_sends_the_block_to_the_primary(replica_on, settings, monkeypatch):
    assert replica_lag_seconds() == 0.0  # the test database is no standby
    settings.REPLICA_MAX_LAG_SECONDS = -1
    with replica_reads() as used:
        assert used is False and router.db_for_read(Case) == "default"

    settings.REPLICA_MAX_LAG_SECONDS = 30

    def unreachable():
        from django.db import OperationalError
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(db_router, "replica_lag_seconds", unreachable)
    with replica_reads() as used:
        assert used is False and router.db_for_read(Case) == "default"


@pytest.mark.django_db
def test_switched_off_everything_reads_the_primary():
    assert replica_configured() is False
    with replica_reads() as used:
        assert used is False
        assert {router.db_for_read(m) for m in REPORTED + ACCESS_AND_SECRETS} == {"default"}
        with CaptureQueriesContext(connections["default"]) as primary:
            list(Case.objects.all())
        assert len(primary) == 1


def databases_and_routers(env) -> list:
    found = settings_of(env, "DATABASES", "DATABASE_ROUTERS")
    return [sorted(found["DATABASES"]), found["DATABASE_ROUTERS"]]


def test_without_replica_url_there_is_no_alias_and_no_router(tmp_path):
    for env in (production_env(tmp_path, REPLICA_DATABASE_URL=None),
                process_env(tmp_path, DJANGO_SETTINGS_MODULE="config.settings.dev", REPLICA_DATABASE_URL=None)):
        assert databases_and_routers(env) == [["default"], []]
    assert databases_and_routers(production_env(
        tmp_path, REPLICA_DATABASE_URL="postgres://hopluc_reader:secret@replica.internal:5432/hopluc")) == [
        ["default", "replica"], ["config.db_router.PrimaryReplicaRouter"]]
