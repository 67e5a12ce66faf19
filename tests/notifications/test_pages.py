"""Pages: the notification centre, the header count, preferences and my deadlines."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agencies.services import membership_add
from notifications.models import Deadline, Notification, NotificationKind, NotificationPreference, UserContact
from notifications.services import deadline_create, notify
from tests.conftest import make_user

CENTRE = "/notifications/"
PREFERENCES = "/notifications/preferences/"
DEADLINES = "/notifications/deadlines/"


def tell(user, *, n=1, kind=NotificationKind.HANDOFF_RECEIVED, number="HN-2026-000123"):
    for i in range(n):
        notify(recipients=[user], kind=kind, case_number=number, link="/cases/7/", event_key=f"e:{user.pk}:{kind}:{i}",
               params={"due_at": timezone.now().isoformat()})
    return list(Notification.objects.filter(recipient=user).order_by("pk"))


@pytest.mark.parametrize(
    "method, url",
    [("get", CENTRE), ("post", CENTRE + "1/read/"), ("post", CENTRE + "read-all/"), ("get", PREFERENCES),
     ("post", PREFERENCES), ("get", DEADLINES)],
)
def test_anonymous_is_sent_to_sign_in(client, db, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_centre_lists_only_my_notifications(client, world):
    tell(world.lead_responder, number="HN-2026-000001")
    tell(world.outsider_responder, number="HUE-2026-000009")
    client.force_login(world.lead_responder)
    response = client.get(CENTRE)
    assert response.status_code == 200
    assert b"HN-2026-000001" in response.content
    assert b"HUE-2026-000009" not in response.content


def test_centre_query_budget_does_not_grow_with_notifications(client, world, django_assert_max_num_queries):
    tell(world.lead_responder, n=30)
    client.force_login(world.lead_responder)
    with django_assert_max_num_queries(8):
        response = client.get(CENTRE)
    assert len(re.findall(rb'data-testid="notification-\d+"', response.content)) == 30


def test_header_shows_the_unread_count(client, world):
    tell(world.lead_responder, n=3)
    client.force_login(world.lead_responder)
    response = client.get(CENTRE)
    assert b'data-testid="unread-count">3<' in response.content
    client.post(CENTRE + "read-all/")
    assert b'data-testid="unread-count"' not in client.get(CENTRE).content


def test_header_count_on_another_page_costs_one_query(client, world):
    tell(world.lead_responder, n=3)
    client.force_login(world.lead_responder)
    baseline_page = "/work/"
    with CaptureQueriesContext(connection) as queries:
        response = client.get(baseline_page)
    assert response.status_code == 200
    counts = [q["sql"] for q in queries.captured_queries if "notifications_notification" in q["sql"]]
    assert len(counts) == 1 and "COUNT" in counts[0]


def test_header_count_comes_with_the_session_row_once_the_person_is_known(client, world):
    """On PostgreSQL a page's GET reads the count in the session's statement (no statement of its own);
    each request reads it anew, so a change made between two requests shows on the next."""
    [first, _second, _third] = tell(world.lead_responder, n=3)
    client.force_login(world.lead_responder)
    client.get("/work/")  # from now on the session's person is known before the session is read
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/work/")
    assert b'data-testid="unread-count">3<' in response.content
    named = [q["sql"] for q in queries.captured_queries if "notifications_notification" in q["sql"]]
    assert len(named) == 1
    assert ("django_session" in named[0]) == (connection.vendor == "postgresql")
    Notification.objects.filter(pk=first.pk).update(read_at=timezone.now())
    assert b'data-testid="unread-count">2<' in client.get("/work/").content
    # The API reads no count.
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/me/").status_code == 200
    assert not [q for q in queries.captured_queries if "notifications_notification" in q["sql"]]


def test_count_read_early_is_read_again_once_the_table_is_named(world):
    """What this request changes after the count was read is never missed: any statement naming the table
    since makes notification_unread_count read it again; another person's count is never used."""
    from django.contrib.auth.models import User

    from notifications.selectors import (
        notification_unread_count,
        notification_unread_extra,
        notification_unread_prefetched,
    )
    from notifications.services import notification_mark_read

    user = world.lead_responder
    [first, _second] = tell(user, n=2)
    connection.ensure_connection()
    extra = notification_unread_extra(using=connection.alias, user_alias="u")
    if connection.vendor != "postgresql":
        assert extra is None
        return
    columns, params = extra
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {User._meta.db_table} u WHERE u.id = %s", [*params, user.pk])  # noqa: S608
        [(count,)] = cursor.fetchall()
    assert count == 2
    prefetched = notification_unread_prefetched(using=connection.alias, user_id=user.pk, count=count)
    with CaptureQueriesContext(connection) as queries:
        assert notification_unread_count(user=user, prefetched=prefetched) == 2
    assert not queries.captured_queries
    other = make_user("someone-else")
    assert notification_unread_count(user=other, prefetched=prefetched) == 0
    notification_mark_read(notification=first)
    assert notification_unread_count(user=user, prefetched=prefetched) == 1


def test_mark_one_read_and_open_it(client, world):
    [first, second] = tell(world.lead_responder, n=2)
    client.force_login(world.lead_responder)
    response = client.post(CENTRE + f"{first.pk}/read/", {"open": "1"})
    assert (response.status_code, response.url) == (302, "/cases/7/")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None
    response = client.post(CENTRE + f"{second.pk}/read/")
    assert (response.status_code, response.url) == (302, CENTRE)


def test_nobody_can_read_or_mark_another_users_notification(client, world):
    [theirs] = tell(world.receiving_responder)
    for user in (world.lead_responder, world.receiving_supervisor, world.analyst, world.sysadmin):
        client.force_login(user)
        assert client.post(CENTRE + f"{theirs.pk}/read/").status_code == 404
        assert client.post(CENTRE + f"{theirs.pk}/read/", {"open": "1"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize("path", [CENTRE + "read-all/", "/api/notifications/read-all/"], ids=["page", "api"])
def test_read_all_marks_only_mine(client, world, path):
    tell(world.lead_responder, n=2)
    [theirs] = tell(world.receiving_responder)
    client.force_login(world.lead_responder)
    client.post(path)
    assert not Notification.objects.filter(recipient=world.lead_responder, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_endpoints_refuse_get(client, world):
    [mine] = tell(world.lead_responder)
    client.force_login(world.lead_responder)
    assert client.get(CENTRE + f"{mine.pk}/read/").status_code == 405
    assert client.get(CENTRE + "read-all/").status_code == 405


def test_an_analyst_has_a_notification_centre_of_their_own(client, world):
    client.force_login(world.analyst)
    assert client.get(CENTRE).status_code == 200


# --- Preferences ---------------------------------------------------------------------------------


def form_data(**overrides):
    data = {"phone": "+84 912 345 678", "language": "en"}
    for kind in NotificationKind.values:
        data[f"{kind}__in_app"] = "on"
        data[f"{kind}__email"] = "on"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_preferences_page_saves_choices_phone_and_language(client, world, django_assert_max_num_queries):
    client.force_login(world.lead_responder)
    with django_assert_max_num_queries(8):
        assert client.get(PREFERENCES).status_code == 200
    response = client.post(PREFERENCES, form_data(**{"handoff_received__email": None}))
    assert response.status_code == 302
    stored = dict(
        NotificationPreference.objects.filter(user=world.lead_responder, kind="handoff_received")
        .values_list("channel", "enabled")
    )
    assert stored == {"in_app": True, "email": False, "sms": False}
    contact = UserContact.objects.get(user=world.lead_responder)
    assert (contact.phone, contact.language) == ("+84912345678", "en")


def test_escalations_stay_on_in_the_app_whatever_is_posted(client, world):
    client.force_login(world.lead_supervisor)
    page = client.get(PREFERENCES).content.decode()
    for name in ("deadline_escalated__in_app", "deadline_overdue__in_app", "handoff_emergency__in_app"):
        assert " disabled" in re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
    assert " disabled" not in re.search(r'<input[^>]*name="deadline_escalated__email"[^>]*>', page).group(0)
    client.post(PREFERENCES, form_data(**{"deadline_escalated__in_app": None, "deadline_overdue__in_app": None}))
    assert not NotificationPreference.objects.filter(channel="in_app", enabled=False, kind__in=[
        "deadline_escalated", "deadline_overdue"]).exists()
    [notification] = tell(world.lead_supervisor, kind=NotificationKind.DEADLINE_ESCALATED)
    assert notification.in_app


@pytest.mark.parametrize("change", [{"phone": "call me"}, {"language": "fr"}, {"phone": "+84 12"}])
def test_preferences_bad_input_is_a_form_error(client, world, change):
    client.force_login(world.lead_responder)
    response = client.post(PREFERENCES, form_data(**change))
    assert response.status_code == 400
    assert b"errorlist" in response.content
    assert not UserContact.objects.exists()
    assert not NotificationPreference.objects.exists()


# --- My deadlines ---------------------------------------------------------------------------------


def make_deadline(owner_agency, *, due_in, owner_user=None, escalate_agency=None, number="HN-2026-000123"):
    now = timezone.now()
    return deadline_create(
        kind=Deadline.Kind.FOLLOW_UP, subject=f"action:{number}", owner_agency=owner_agency, owner_user=owner_user,
        escalate_agency=escalate_agency, start=now - datetime.timedelta(days=3), due_at=now + due_in,
        case_number=number, link="/cases/7/",
    )


def test_my_deadlines_split_overdue_and_due_soon(client, world):
    overdue = make_deadline(world.police, due_in=-datetime.timedelta(hours=2), number="HN-2026-000001")
    soon = make_deadline(world.police, due_in=datetime.timedelta(hours=3), number="HN-2026-000002")
    make_deadline(world.police, due_in=datetime.timedelta(days=9), number="HN-2026-000003")
    make_deadline(world.school, due_in=-datetime.timedelta(hours=2), number="HUE-2026-000004")
    client.force_login(world.lead_responder)
    page = client.get(DEADLINES).content.decode()
    overdue_part, soon_part = page.split('data-testid="due-soon"') if 'data-testid="due-soon"' in page else (page, "")
    assert f'deadline-{overdue.pk}"' in overdue_part
    assert f'deadline-{soon.pk}"' in soon_part
    assert "HN-2026-000003" not in page
    assert "HUE-2026-000004" not in page


def test_responders_see_their_own_and_unassigned_supervisors_see_all_of_their_agency(client, world):
    colleague = make_user("colleague")
    membership_add(user=colleague, agency=world.police, role="responder")
    colleagues = make_deadline(world.police, due_in=-datetime.timedelta(hours=1), owner_user=colleague,
                               number="HN-2026-000011")
    unassigned = make_deadline(world.police, due_in=-datetime.timedelta(hours=1), number="HN-2026-000012")
    client.force_login(world.lead_responder)
    page = client.get(DEADLINES).content.decode()
    assert "HN-2026-000012" in page and "HN-2026-000011" not in page
    client.force_login(world.lead_supervisor)
    page = client.get(DEADLINES).content.decode()
    assert "HN-2026-000011" in page and "HN-2026-000012" in page
    assert unassigned.pk != colleagues.pk


def test_escalated_deadlines_reach_the_sending_agency_supervisors(client, world):
    deadline = make_deadline(world.health, due_in=-datetime.timedelta(hours=30), escalate_agency=world.police,
                             number="HN-2026-000021")
    client.force_login(world.lead_supervisor)
    assert "HN-2026-000021" not in client.get(DEADLINES).content.decode()
    Deadline.objects.filter(pk=deadline.pk).update(stage=Deadline.Stage.ESCALATED)
    assert "HN-2026-000021" in client.get(DEADLINES).content.decode()
    client.force_login(world.lead_responder)
    assert "HN-2026-000021" not in client.get(DEADLINES).content.decode()


@pytest.mark.parametrize("path", [DEADLINES, "/api/deadlines/"], ids=["page", "api"])
@pytest.mark.parametrize("who", ["analyst", "province_analyst", "lead_admin"])
def test_my_deadlines_refuses_people_without_a_case_role(client, world, who, path):
    client.force_login(getattr(world, who))
    assert client.get(path).status_code == 403


def test_my_deadlines_query_budget(client, world, django_assert_max_num_queries):
    for n in range(25):
        make_deadline(world.police, due_in=datetime.timedelta(hours=1 + n % 3) * (1 if n % 2 else -1),
                      number=f"HN-2026-{n:06d}")
    client.force_login(world.lead_supervisor)
    with django_assert_max_num_queries(9):
        response = client.get(DEADLINES)
    assert response.content.count(b'data-testid="deadline-') == 25
