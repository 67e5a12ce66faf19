"""A granted access request, through the real broker to a real Celery worker: the worker builds the
package (committed rows), the supervisor downloads it once. Sent twice, it is built once."""

import io
import json
import os
import time
import uuid
import zipfile

import pytest

from audit.models import AuditEvent
from privacy.models import AccessPackage
from privacy.services import access_package_download, privacy_request_decide, privacy_request_record
from privacy.tasks import build_access_package
from tests.ops.conftest import celery_worker, worker_log
from tests.reports.test_worker import _database_url

from .conftest import OTHER_SURVIVOR, SURVIVOR, open_case

pytestmark = [pytest.mark.worker]


def test_worker_builds_the_package_once(transactional_db, world, time_limits, lead_access, settings, tmp_path):
    queue = f"privacy-{uuid.uuid4().hex[:8]}"
    settings.PRIVACY_QUEUE = queue
    case = open_case(world)
    open_case(world, survivor=OTHER_SURVIVOR)
    dsr = privacy_request_record(access=lead_access(case), actor=world.lead_responder,
                                 data={"kind": "access", "requester": "survivor"})
    env = {**os.environ, "DATABASE_URL": _database_url(), "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "worker.log"
    with celery_worker(queue=queue, env=env, log_path=log):
        # Its own (durable) transaction: the task is sent when the decision commits.
        privacy_request_decide(user=world.lead_supervisor, request_id=dsr.pk, data={"decision": "grant"})
        again = build_access_package.apply_async(args=[dsr.pk], queue=queue)
        try:
            assert again.get(timeout=120) == AccessPackage.Status.READY
        except Exception as error:  # the worker's log says why
            raise AssertionError(worker_log(log)) from error
        deadline = time.monotonic() + 60
        while AccessPackage.objects.get(request=dsr).status == AccessPackage.Status.PENDING:
            assert time.monotonic() < deadline, worker_log(log)
            time.sleep(0.2)
    assert "build_access_package" in worker_log(log)
    assert AuditEvent.objects.filter(target=f"dsr:{dsr.pk}", details__package="built").count() == 1
    content, _name = access_package_download(user=world.lead_supervisor, request_id=dsr.pk)
    data = json.loads(zipfile.ZipFile(io.BytesIO(content)).read("du-lieu-ca-nhan.json"))
    assert data["nguoi_bi_hai"]["ho_ten"] == SURVIVOR["full_name"]
    assert OTHER_SURVIVOR["full_name"] not in json.dumps(data, ensure_ascii=False)
    assert AccessPackage.objects.get(request=dsr).status == AccessPackage.Status.DOWNLOADED
