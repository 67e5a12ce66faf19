"""The beat task through the real broker to a real Celery worker: sent twice, each month and scope
is published once. The worker runs against this test's database (committed rows)."""

import os
import uuid
from urllib.parse import quote

import pytest
from django.db import connection

from reports.models import MonthlyReport
from reports.tasks import build_due_monthly_reports
from tests.ops.conftest import celery_worker, worker_log

pytestmark = [pytest.mark.worker]


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="") + (":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


def test_beat_task_sent_twice_to_a_worker_publishes_each_scope_once(transactional_db, october, tmp_path):
    queue = f"reports-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _database_url(), "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "worker.log"
    with celery_worker(queue=queue, env=env, log_path=log, pool="prefork"):
        sent = [build_due_monthly_reports.apply_async(kwargs={"today": "2026-11-29"}, queue=queue) for _ in range(2)]
        try:
            results = [result.get(timeout=120) for result in sent]
        except Exception as error:  # the worker's log says why
            raise AssertionError(worker_log(log)) from error
    assert sorted(results, key=len) == [[], [{"period": "2026-10", "created": 3, "existing": 0}]]
    assert MonthlyReport.objects.filter(period="2026-10-01", version=1).count() == 3
