"""A plan item's deadline reminds its owner and escalates to the coordinating agency through the real
broker and a real Celery worker (the beat's sweep task), against this test's committed rows."""

import datetime
import os
import time
import uuid

import pytest
from django.utils import timezone

from notifications.models import Deadline, Notification
from notifications.tasks import sweep_deadlines
from tests.ops.conftest import celery_worker, worker_log
from tests.reports.test_worker import _database_url

from .conftest import access_of

pytestmark = [pytest.mark.worker]


def _wait_for(event_key: str, log, seconds: float = 90) -> list[str]:
    """Poll until the worker has written the notifications of `event_key` (or fail with its log)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        names = sorted(Notification.objects.filter(event_key=event_key).values_list("recipient__username", flat=True))
        if names:
            return names
        time.sleep(0.5)
    raise AssertionError(worker_log(log))


def test_a_plan_item_is_reminded_and_escalated_by_the_worker(transactional_db, world, met, tmp_path):
    from conferences.services import plan_item_add

    item = plan_item_add(access=access_of(world.lead_supervisor, met.meeting), actor=world.lead_supervisor,
                         meeting_case_id=met.row.pk, action="Đưa nạn nhân đi khám lại.",
                         owner_agency_id=world.health.pk, owner_user=world.receiving_responder,
                         due_at=timezone.now() + datetime.timedelta(days=2))
    deadline = Deadline.objects.get(subject=f"plan_item:{item.pk}", kind=Deadline.Kind.ACTION_PLAN)
    now = timezone.now()
    # The reminder time has come (the due time not yet): as if a day and a half had passed.
    Deadline.objects.filter(pk=deadline.pk).update(remind_at=now - datetime.timedelta(minutes=1),
                                                   next_fire_at=now - datetime.timedelta(minutes=1))
    queue = f"plans-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _database_url(), "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "worker.log"
    with celery_worker(queue=queue, env=env, log_path=log):
        sweep_deadlines.apply_async(queue=queue)
        assert _wait_for(f"deadline:{deadline.pk}:reminded", log) == ["receiving_responder"]
        # Past due and past the escalation time: the owner agency's supervisors, then the coordinator's.
        Deadline.objects.filter(pk=deadline.pk).update(
            due_at=now - datetime.timedelta(minutes=2), escalate_at=now - datetime.timedelta(minutes=1),
            remind_at=now - datetime.timedelta(minutes=3), next_fire_at=now - datetime.timedelta(minutes=2))
        sweep_deadlines.apply_async(queue=queue)
        assert _wait_for(f"deadline:{deadline.pk}:overdue", log) == ["receiving_supervisor"]
        assert "lead_supervisor" in _wait_for(f"deadline:{deadline.pk}:escalated", log)
