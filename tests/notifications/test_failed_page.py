"""/notifications/failed/: supervisors see the emails and SMS to their own staff that were given up
on; nobody else sees any, and no other agency's."""

import pytest
from django.utils import timezone

from notifications.models import Notification, OutboxMessage

URL = "/notifications/failed/"


def failed(user, *, key, channel="email", case_number="HN-2026-000123", error="SMTPServerDisconnected: gone"):
    notification, _ = Notification.objects.get_or_create(
        recipient=user, event_key=key,
        defaults={"kind": "handoff_emergency", "link": "/cases/1/", "case_number": case_number},
    )
    now = timezone.now()
    return OutboxMessage.objects.create(
        notification=notification, event_key=key, recipient=user, channel=channel, status="failed",
        attempts=7, last_error=error, next_attempt_at=now, relay_after=now,
    )


@pytest.fixture
def failures(world):
    return {
        "health": failed(world.receiving_responder, key="handoff:1:sent", case_number="HN-2026-000111"),
        "police": failed(world.lead_responder, key="handoff:2:sent", case_number="HN-2026-000222"),
        "school": failed(world.outsider_responder, key="handoff:3:sent", case_number="HUE-2026-000333"),
    }


def test_a_supervisor_sees_the_failures_of_their_own_staff_only(client, world, failures):
    client.force_login(world.receiving_supervisor)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-testid="failed-{failures["health"].pk}"' in page
    assert "HN-2026-000111" in page and "SMTPServerDisconnected" in page
    assert "HN-2026-000222" not in page and "HUE-2026-000333" not in page
    assert f'data-testid="failed-{failures["police"].pk}"' not in page


def test_a_failure_of_someone_who_also_works_elsewhere_shows_neither_event_nor_case(client, world, failures):
    """Someone seconded to the hospital and the school: the school's emergency notice to her failed. A
    notification names no agency, so the hospital's supervisor saw the school's case number and event."""
    from agencies.services import membership_add
    from tests.conftest import make_user

    shared = make_user("shared_responder")
    membership_add(user=shared, agency=world.health, role="responder")
    membership_add(user=shared, agency=world.school, role="responder")
    message = failed(shared, key="handoff:9:sent", case_number="HUE-2026-000999")
    client.force_login(world.receiving_supervisor)
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    row = page[page.index(f'data-testid="failed-{message.pk}"'):]
    row = row[:row.index("</tr>")]
    assert "HUE-2026-000999" not in page and "emergency" not in row.lower()
    assert "another agency" in row and "SMTPServerDisconnected" in row
    # Her colleagues who work for the hospital alone are shown in full.
    assert "HN-2026-000111" in page


def test_messages_still_being_tried_or_sent_are_not_listed(client, world, failures):
    OutboxMessage.objects.filter(pk=failures["health"].pk).update(status="retrying")
    client.force_login(world.receiving_supervisor)
    page = client.get(URL).content.decode()
    assert "HN-2026-000111" not in page
    assert 'class="empty-title"' in page


@pytest.mark.parametrize("who", ["receiving_responder", "lead_admin", "analyst", "province_analyst"])
def test_anyone_who_supervises_no_agency_is_refused(client, world, failures, who):
    client.force_login(getattr(world, who))
    response = client.get(URL)
    assert response.status_code == 403
    assert b"HN-2026-000111" not in response.content


def test_anonymous_is_sent_to_the_login_page(client, failures):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_list_keeps_a_query_budget(client, world, django_assert_max_num_queries):
    for n in range(20):
        failed(world.receiving_responder, key=f"handoff:{n}:sent", channel="sms" if n % 2 else "email")
    client.force_login(world.receiving_supervisor)
    with django_assert_max_num_queries(12):
        response = client.get(URL)
    assert response.content.count(b'data-testid="failed-') == 20
