"""Migration cases 0008 (and supervision 0002) move data written before per-case keys: identity under
the key ring and free text in plaintext become values sealed with each case's own key."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from cases.models import Case, CaseKey, Survivor
from cases.selectors import case_get_for_user
from encryption import crypto
from handoffs.models import Handoff
from tests.cases.services_helpers import consent_record_through_edge

from .conftest import SURVIVOR, case_build, medical_consent

BEFORE = [("cases", "0007_permission_validity_intervals"), ("supervision", "0001_initial")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_existing_rows(world, time_limits):
    case = case_build(world)
    consent = consent_record_through_edge(access=case_get_for_user(user=world.lead_responder, case_id=case.pk),
                             actor=world.lead_responder, data=medical_consent(world))
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    # The rows as an older version wrote them: identity under the key ring, text in plaintext, no keys.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_survivor SET full_name = %s, ethnicity = %s, data_key_id = NULL",
                       [crypto.encrypt(SURVIVOR["full_name"]), "Kinh"])
        cursor.execute("UPDATE cases_case SET data_key_id = NULL")
        cursor.execute("UPDATE cases_consent SET purpose = %s", ["Khám và điều trị"])
        cursor.execute("DELETE FROM cases_casekey")
    Handoff.objects.all().delete()
    try:
        _migrate(BEFORE)
        _migrate(latest)
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    crypto.key_cache_clear()
    case = Case.objects.select_related("survivor").get(pk=case.pk)
    key = CaseKey.objects.get(pk=case.data_key_id)
    assert case.survivor.data_key_id == key.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT full_name, ethnicity FROM cases_survivor WHERE id = %s", [case.survivor_id])
        names = cursor.fetchone()
        cursor.execute("SELECT purpose FROM cases_consent WHERE id = %s", [consent.pk])
        purpose = cursor.fetchone()[0]
    assert all(v.startswith(f"ck1.{key.kid}.") for v in (*names, purpose))
    survivor = Survivor.objects.get(pk=case.survivor_id)
    assert (survivor.full_name, survivor.ethnicity) == (SURVIVOR["full_name"], "Kinh")
    assert type(consent).objects.get(pk=consent.pk).purpose == "Khám và điều trị"
