"""/healthz/detail: delivery health for operators. Counts only, for system administrators or the
monitoring token; /healthz itself stays as plain as before (test_healthz.py)."""

import datetime

import pytest
from django.utils import timezone

from notifications.models import Heartbeat, Notification, OutboxMessage

URL = "/healthz/detail"
TOKEN = "t" * 40


def outbox_row(user, *, status, age_seconds, lease_until=None, key="deadline:1:overdue", channel="email"):
    notification, _ = Notification.objects.get_or_create(
        recipient=user, event_key=key, defaults={"kind": "deadline_overdue", "link": "/cases/1/"}
    )
    now = timezone.now()
    row = OutboxMessage.objects.create(
        notification=notification, event_key=key, recipient=user, channel=channel, status=status,
        next_attempt_at=now, relay_after=now, lease_until=lease_until,
    )
    OutboxMessage.objects.filter(pk=row.pk).update(created_at=now - datetime.timedelta(seconds=age_seconds))
    return row


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "lead_supervisor", "receiving_responder", "analyst", "lead_admin"])
def test_detail_is_refused_to_everyone_but_system_administrators(client, world, who):
    if who != "anonymous":
        client.force_login(getattr(world, who))
    response = client.get(URL)
    assert response.status_code == 403
    assert b"outbox" not in response.content and b"notifications" not in response.content


@pytest.mark.django_db
def test_a_wrong_or_missing_token_is_refused_and_the_right_one_accepted(client, settings):
    settings.HEALTHZ_DETAIL_TOKEN = TOKEN
    assert client.get(URL).status_code == 403
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer " + "x" * 40).status_code == 403
    assert client.get(URL, HTTP_AUTHORIZATION=TOKEN).status_code == 403
    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    settings.HEALTHZ_DETAIL_TOKEN = ""
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer ").status_code == 403


@pytest.mark.django_db
def test_detail_reports_backlog_oldest_age_stuck_rows_failures_and_the_beat_heartbeat(client, world):
    client.force_login(world.sysadmin)
    empty = client.get(URL)
    assert empty.status_code == 200
    assert empty.json()["notifications"] == {
        "backlog": 0, "oldest_undelivered_age_seconds": None, "stuck_sending": 0, "failed_last_day": 0,
        "beat_heartbeat_age_seconds": None,
    }
    now = timezone.now()
    user = world.receiving_supervisor
    outbox_row(user, status="queued", age_seconds=300)
    outbox_row(user, status="retrying", age_seconds=40, channel="sms")
    # A dead worker's row, past its lease; and a live one, still within it.
    outbox_row(user, status="sending", age_seconds=100, lease_until=now - datetime.timedelta(seconds=5),
               key="deadline:2:overdue")
    outbox_row(user, status="sending", age_seconds=10, lease_until=now + datetime.timedelta(seconds=60),
               key="deadline:2:overdue", channel="sms")
    outbox_row(user, status="sent", age_seconds=9000, key="deadline:3:overdue")
    outbox_row(user, status="failed", age_seconds=600, key="deadline:3:overdue", channel="sms")
    Heartbeat.objects.create(name="beat", at=now - datetime.timedelta(seconds=42))

    body = client.get(URL).json()
    assert body["status"] == "ok" and body["database"] == "ok"
    health = body["notifications"]
    assert health["backlog"] == 4
    assert 300 <= health["oldest_undelivered_age_seconds"] < 330
    assert health["stuck_sending"] == 1
    assert health["failed_last_day"] == 1
    assert 42 <= health["beat_heartbeat_age_seconds"] < 70
    assert b"receiving_supervisor" not in client.get(URL).content


@pytest.mark.django_db
def test_detail_answers_in_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    client.force_login(world.sysadmin)
    for n in range(5):
        outbox_row(world.receiving_supervisor, status="queued", age_seconds=n, key=f"deadline:{n}:overdue")
    # session and user, SELECT 1, the outbox aggregate, the failures count, the heartbeat, the session save
    with django_assert_max_num_queries(10):
        assert client.get(URL).status_code == 200


@pytest.mark.django_db
def test_the_heartbeat_task_records_when_it_ran():
    from config.tasks import heartbeat

    assert heartbeat() == "ok"
    first = Heartbeat.objects.get(name="beat").at
    assert timezone.now() - first < datetime.timedelta(seconds=5)
    heartbeat()
    assert Heartbeat.objects.get(name="beat").at >= first
    assert Heartbeat.objects.count() == 1

