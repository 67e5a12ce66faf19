"""The monthly report's counting reads the replica when one is configured, and publishes the same.

The `replica` alias mirrors the test database through a second connection, which sees committed
rows only: hence a transactional test.
"""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from reports.publication import month_publishable
from reports.services import monthly_reports_build
from tests.support.replica import needs_replica

from .conftest import OCTOBER, TODAY

PRIMARY_ONLY_TABLES = ("auth_user", "django_session", "agencies_membership", "cases_caseaccessrow", "cases_casekey",
                       "cases_consent", "cases_breakglassuse", "reports_monthlyreport")



@needs_replica
@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_report_built_through_the_replica_is_the_one_the_primary_gives(october, settings):
    _month, on_primary = month_publishable(OCTOBER, earlier=[])
    settings.DATABASE_REPLICA_READS = True
    with CaptureQueriesContext(connections["replica"]) as replica, \
            CaptureQueriesContext(connections["default"]) as primary:
        outcome = monthly_reports_build(period=OCTOBER, today=TODAY)
    assert {(r.province.code if r.province_id else None): r.data for r in outcome.created} == on_primary
    counting = [q["sql"] for q in replica.captured_queries]
    assert len(counting) > 3, counting
    # One snapshot: the counting's REPEATABLE READ, read-only transaction is opened on the replica.
    assert any("REPEATABLE READ, READ ONLY" in sql for sql in counting)
    assert not any("REPEATABLE READ" in q["sql"] for q in primary.captured_queries)
    # Earlier publications, consent and the writes stay on the primary.
    assert not [sql for sql in counting if any(f'FROM "{t}"' in sql for t in PRIMARY_ONLY_TABLES)]
    assert any('INSERT INTO "reports_monthlyreport"' in q["sql"] for q in primary.captured_queries)
