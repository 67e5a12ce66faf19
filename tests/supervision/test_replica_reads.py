"""Supervision pages read the replica (config/db_router.py) when one is configured: the dashboard, the
review queue and the access log, after the primary has decided which agency the user supervises.

The `replica` alias mirrors the test database through a second connection, which sees committed
rows only: hence a transactional test.
"""

import re

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tests.support.replica import needs_replica

PAGES = ["/supervision/dashboard/?weeks=4", "/supervision/reviews/", "/supervision/access/"]
PRIMARY_ONLY_TABLES = ("auth_user", "django_session", "agencies_membership", "agencies_analystscope",
                       "cases_caseaccessrow", "cases_casekey", "cases_consent", "cases_breakglassuse")


def _main(response) -> str:
    body = response.content.decode()
    main = body.split("<main", 1)[1].split("</main>", 1)[0]
    return re.sub(r'(nonce|value)="[^"]*"', "", main)



@needs_replica
@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_supervision_pages_read_the_replica_and_show_the_same(world, register, web, settings):
    client = web(world.lead_supervisor)
    on_primary = {url: _main(client.get(url)) for url in PAGES}
    settings.DATABASE_REPLICA_READS = True
    for url in PAGES:
        with CaptureQueriesContext(connections["replica"]) as replica, \
                CaptureQueriesContext(connections["default"]) as primary:
            response = client.get(url)
        assert response.status_code == 200
        assert _main(response) == on_primary[url], url
        read = [q["sql"] for q in replica.captured_queries]
        assert len(read) >= 2, (url, read)
        # No query of a primary-only model (a join for display, as a deadline's owner's name, may come along).
        assert not [sql for sql in read if any(f'FROM "{t}"' in sql for t in PRIMARY_ONLY_TABLES)], url
        # The session, the user and the supervised agency were decided on the primary.
        decided = " ".join(q["sql"] for q in primary.captured_queries)
        assert '"django_session"' in decided and '"agencies_membership"' in decided, url


@needs_replica
@pytest.mark.django_db(databases=["default", "replica"])
def test_with_the_replica_on_the_wrong_person_is_still_refused(world, register, web, settings):
    settings.DATABASE_REPLICA_READS = True
    for user in (world.lead_responder, world.analyst, None):
        for url in PAGES:
            with CaptureQueriesContext(connections["replica"]) as replica:
                response = web(user).get(url)
            assert response.status_code in (302, 403, 404), (user, url, response.status_code)
            assert len(replica) == 0, (user, url)
