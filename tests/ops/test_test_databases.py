"""Under pytest-xdist each worker runs on its own copy of the run's one migrated test database
(tests/support/template_db.py), not on a database it migrated itself."""

import os

import pytest
from django.db import connection

from tests.support.template_db import TEMPLATE_SUFFIX


@pytest.mark.skipif("PYTEST_XDIST_WORKER" not in os.environ, reason="one process migrates its own test database")
def test_an_xdist_worker_runs_on_a_copy_of_the_template(db):
    worker = os.environ["PYTEST_XDIST_WORKER"]
    name = os.path.basename(connection.settings_dict["NAME"])
    assert name.removesuffix(".sqlite3").endswith(f"_{TEMPLATE_SUFFIX}_{worker}"), name
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_migrations")
        assert cursor.fetchone()[0] > 0
