"""API: /api/notifications/, /api/notification-preferences/, /api/deadlines/."""

import datetime
import json

import pytest
from django.utils import timezone

from notifications.models import Deadline, Notification, NotificationKind, NotificationPreference
from notifications.services import deadline_create, notify
from tests.support.api_tokens import api_token_for

LIST = "/api/notifications/"
READ_ALL = "/api/notifications/read-all/"
PREFERENCES = "/api/notification-preferences/"
DEADLINES = "/api/deadlines/"


def tell(user, *, n=1, kind=NotificationKind.HANDOFF_RECEIVED, number="HN-2026-000123"):
    for i in range(n):
        notify(recipients=[user], kind=kind, case_number=number, link="/cases/7/", event_key=f"e:{user.pk}:{kind}:{i}")
    return list(Notification.objects.filter(recipient=user).order_by("pk"))


def put(client, url, payload, **extra):
    return client.put(url, json.dumps(payload), content_type="application/json", **extra)


@pytest.mark.parametrize(
    "method, url",
    [("get", LIST), ("post", LIST + "1/read/"), ("post", READ_ALL), ("get", PREFERENCES), ("put", PREFERENCES),
     ("get", DEADLINES)],
)
def test_anonymous_is_refused(client, db, method, url):
    assert getattr(client, method)(url).status_code in (401, 403)


def test_list_is_mine_only_newest_first_with_absolute_urls(client, world, settings):
    settings.SITE_URL = "https://hopluc.example.vn"
    tell(world.lead_responder, n=3)
    tell(world.receiving_responder, number="HN-2026-000999")
    client.force_login(world.lead_responder)
    body = client.get(LIST).json()
    assert [item["case_number"] for item in body["results"]] == ["HN-2026-000123"] * 3
    ids = [item["id"] for item in body["results"]]
    assert ids == sorted(ids, reverse=True)
    assert body["results"][0]["url"] == "https://hopluc.example.vn/cases/7/"


def test_list_filters_unread_and_paginates_with_a_cursor(client, world):
    notifications = tell(world.lead_responder, n=5)
    notifications[0].read_at = timezone.now()
    notifications[0].save(update_fields=["read_at"])
    client.force_login(world.lead_responder)
    assert len(client.get(LIST, {"unread": "true"}).json()["results"]) == 4
    assert client.get(LIST, {"unread": "maybe"}).status_code == 400
    first = client.get(LIST, {"page_size": 2}).json()
    seen = [item["id"] for item in first["results"]]
    next_page = first["next"]
    while next_page:
        page = client.get(next_page).json()
        seen += [item["id"] for item in page["results"]]
        next_page = page["next"]
    assert sorted(seen) == sorted(n.pk for n in notifications)


def test_list_query_budget(client, world, django_assert_max_num_queries):
    tell(world.lead_responder, n=40)
    client.force_login(world.lead_responder)
    # Session and user, the page, and the session save of SESSION_SAVE_EVERY_REQUEST (3).
    with django_assert_max_num_queries(6):
        response = client.get(LIST)
    assert len(response.json()["results"]) == 40


def test_token_authentication_works(client, world):
    tell(world.lead_responder)
    response = client.get(LIST, HTTP_AUTHORIZATION=api_token_for(world.lead_responder))
    assert response.status_code == 200 and len(response.json()["results"]) == 1


def test_mark_read_mine_and_404_for_anyone_elses(client, world):
    [mine] = tell(world.lead_responder)
    [theirs] = tell(world.outsider_responder)
    client.force_login(world.lead_responder)
    response = client.post(LIST + f"{mine.pk}/read/")
    assert response.status_code == 200 and response.json()["read_at"]
    assert client.post(LIST + f"{theirs.pk}/read/").status_code == 404
    assert client.post(LIST + "999999/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_all_answers_how_many_of_mine_it_marked(client, world):
    """That it marks no one else's: test_pages.py, through the page and the API."""
    tell(world.lead_responder, n=3)
    tell(world.receiving_responder)
    client.force_login(world.lead_responder)
    assert client.post(READ_ALL).json() == {"marked": 3}
    assert client.post(READ_ALL).json() == {"marked": 0}


def test_preferences_get_shows_defaults_and_locks(client, world, django_assert_max_num_queries):
    client.force_login(world.lead_supervisor)
    with django_assert_max_num_queries(6):
        rows = {row["kind"]: row for row in client.get(PREFERENCES).json()["preferences"]}
    assert set(rows) == set(NotificationKind.values)
    assert rows["handoff_received"]["channels"] == {"in_app": True, "email": True, "sms": False}
    assert rows["deadline_escalated"]["channels"] == {"in_app": True, "email": True, "sms": True}
    assert rows["deadline_escalated"]["locked"] == ["in_app"]
    assert rows["handoff_received"]["locked"] == []


def test_preferences_put_changes_only_what_is_sent(client, world):
    client.force_login(world.lead_responder)
    response = put(client, PREFERENCES, {"preferences": [
        {"kind": "handoff_received", "channel": "sms", "enabled": True},
        {"kind": "deadline_escalated", "channel": "email", "enabled": False},
    ]})
    assert response.status_code == 200
    rows = {row["kind"]: row for row in response.json()["preferences"]}
    assert rows["handoff_received"]["channels"]["sms"] is True
    assert rows["deadline_escalated"]["channels"]["email"] is False
    assert NotificationPreference.objects.filter(user=world.lead_responder).count() == 2
    assert not NotificationPreference.objects.exclude(user=world.lead_responder).exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"preferences": [{"kind": "deadline_escalated", "channel": "in_app", "enabled": False}]},
        {"preferences": [{"kind": "birthday", "channel": "email", "enabled": True}]},
        {"preferences": [{"kind": "handoff_received", "channel": "pigeon", "enabled": True}]},
        {"preferences": [{"kind": "handoff_received", "channel": "email"}]},
        {"preferences": [{"kind": "handoff_received", "channel": "email", "enabled": "perhaps"}]},
        {"preferences": []},
        {"preferences": "all"},
        {},
        [1, 2],
    ],
    ids=["locked", "kind", "channel", "missing", "not-bool", "empty", "not-list", "no-key", "array"],
)
def test_preferences_put_bad_input_is_400_and_changes_nothing(client, world, payload):
    client.force_login(world.lead_responder)
    assert put(client, PREFERENCES, payload).status_code == 400
    assert not NotificationPreference.objects.exists()


def test_preferences_put_malformed_json_is_400(client, world):
    client.force_login(world.lead_responder)
    assert client.put(PREFERENCES, "{nope", content_type="application/json").status_code == 400


# --- Deadlines -----------------------------------------------------------------------------------


def make_deadline(owner_agency, *, due_in, number):
    now = timezone.now()
    return deadline_create(
        kind=Deadline.Kind.FOLLOW_UP, subject=f"action:{number}", owner_agency=owner_agency,
        start=now - datetime.timedelta(days=3), due_at=now + due_in, case_number=number, link="/cases/7/",
    )


def test_deadlines_by_state(client, world):
    make_deadline(world.police, due_in=-datetime.timedelta(hours=1), number="HN-2026-000001")
    make_deadline(world.police, due_in=datetime.timedelta(hours=2), number="HN-2026-000002")
    make_deadline(world.police, due_in=datetime.timedelta(days=5), number="HN-2026-000003")
    make_deadline(world.health, due_in=-datetime.timedelta(hours=1), number="HN-2026-000004")
    client.force_login(world.lead_responder)

    def numbers(**params):
        return [row["case_number"] for row in client.get(DEADLINES, params).json()["results"]]

    assert numbers(state="overdue") == ["HN-2026-000001"]
    assert numbers(state="due_soon") == ["HN-2026-000002"]
    assert numbers() == ["HN-2026-000001", "HN-2026-000002", "HN-2026-000003"]
    assert client.get(DEADLINES, {"state": "whenever"}).status_code == 400


def test_other_agencies_deadlines_are_invisible(client, world):
    make_deadline(world.police, due_in=-datetime.timedelta(hours=1), number="HN-2026-000001")
    for user in (world.outsider_responder, world.outsider_supervisor, world.receiving_supervisor):
        client.force_login(user)
        assert client.get(DEADLINES).json()["results"] == []


def test_deadlines_query_budget(client, world, django_assert_max_num_queries):
    for n in range(30):
        make_deadline(world.police, due_in=-datetime.timedelta(hours=n + 1), number=f"HN-2026-{n:06d}")
    client.force_login(world.lead_supervisor)
    with django_assert_max_num_queries(7):
        response = client.get(DEADLINES, {"state": "overdue"})
    assert len(response.json()["results"]) == 30


def test_schema_documents_the_endpoints(client, world):
    client.force_login(world.lead_responder)
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    for path in (LIST, "/api/notifications/{notification_id}/read/", READ_ALL, PREFERENCES, DEADLINES):
        assert path in paths
