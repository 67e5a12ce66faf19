"""The mark of the read-replica tests. The test settings give PostgreSQL runs a `replica` alias (a
mirror of the test database); a read replica is a PostgreSQL deployment, and a second connection to
one SQLite file would only wait on its lock."""

import pytest
from django.conf import settings

needs_replica = pytest.mark.skipif("replica" not in settings.DATABASES,
                                   reason="a read replica is a PostgreSQL deployment; SQLite runs have none")
