"""notify(): preferences, the outbox, once per event, and nothing that identifies anyone."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from faker import Faker

from notifications.content import UnsafeNotificationContent
from notifications.models import Notification, NotificationKind, NotificationPreference, OutboxMessage
from notifications.services import notify, preferences_update
from notifications.texts import notification_texts

from .conftest import vn

LINK = "/cases/7/handoffs/12/"
DUE = vn(2026, 2, 25, 19, 0)


def send(recipients, *, kind=NotificationKind.HANDOFF_RECEIVED, event_key="handoff:12:sent", **extra):
    options = {"case_number": "HN-2026-000123", "link": LINK, "params": {"due_at": DUE.isoformat()}}
    options.update(extra)
    return notify(recipients=recipients, kind=kind, event_key=event_key, **options)


def channels_of(user):
    return sorted(OutboxMessage.objects.filter(recipient=user).values_list("channel", flat=True))


def test_defaults_in_app_and_email_sms_only_for_escalations_and_emergencies(reachable):
    world = reachable
    send([world.receiving_responder])
    assert channels_of(world.receiving_responder) == ["email"]
    send([world.receiving_supervisor], kind=NotificationKind.DEADLINE_ESCALATED, event_key="deadline:1:escalated")
    assert channels_of(world.receiving_supervisor) == ["email", "sms"]
    send([world.lead_responder], kind=NotificationKind.HANDOFF_EMERGENCY, event_key="handoff:13:sent")
    assert channels_of(world.lead_responder) == ["email", "sms"]
    assert Notification.objects.filter(in_app=True).count() == 3


def test_no_outbox_row_for_a_channel_without_an_address(world):
    send([world.receiving_supervisor], kind=NotificationKind.DEADLINE_ESCALATED, event_key="deadline:1:escalated")
    assert Notification.objects.filter(recipient=world.receiving_supervisor).exists()
    assert channels_of(world.receiving_supervisor) == []


def test_addresses_read_with_the_recipients_give_the_same_rows_with_one_statement_less(
        reachable):
    """A caller that read the recipients' addresses with them (handoffs) passes them on: the outbox is
    what notify writes reading them itself, one statement fewer; addresses must cover every recipient."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    world = reachable
    users = [world.receiving_responder, world.receiving_supervisor, world.outsider_responder]
    for user in users:
        user.refresh_from_db()
    kind, key = NotificationKind.DEADLINE_ESCALATED, "deadline:1:escalated"
    with CaptureQueriesContext(connection) as read:
        send(users[:1], kind=kind, event_key=key)
    assert any("notifications_usercontact" in q["sql"] for q in read.captured_queries)
    addresses = {user.pk: (user.email, user.contact.phone) for user in users[1:]}
    addresses[users[2].pk] = ("", None)  # no address known: in the app only
    with CaptureQueriesContext(connection) as given:
        send(users[1:], kind=kind, event_key=key, addresses=addresses)
    assert len(given.captured_queries) == len(read.captured_queries) - 1
    assert not any("notifications_usercontact" in q["sql"] for q in given.captured_queries)
    assert channels_of(users[0]) == channels_of(users[1]) == ["email", "sms"]
    assert channels_of(users[2]) == []
    with pytest.raises(ValueError, match="cover every recipient"):
        send(users, kind=kind, event_key="deadline:2:escalated", addresses=addresses)


def test_preferences_switch_channels_off_and_on(reachable):
    world = reachable
    user = world.receiving_responder
    preferences_update(user=user, choices=[
        (NotificationKind.HANDOFF_RECEIVED, "email", False),
        (NotificationKind.HANDOFF_RECEIVED, "sms", True),
        (NotificationKind.HANDOFF_RECEIVED, "in_app", False),
    ])
    [notification] = send([user])
    assert channels_of(user) == ["sms"]
    assert notification.in_app is False


def test_escalations_cannot_be_switched_off_in_the_app(reachable):
    user = reachable.receiving_supervisor
    with pytest.raises(ValidationError):
        preferences_update(user=user, choices=[(NotificationKind.DEADLINE_OVERDUE, "in_app", False)])
    assert not NotificationPreference.objects.exists()
    # Email and SMS may go; in-app stays even if a stored row says otherwise.
    preferences_update(user=user, choices=[
        (NotificationKind.DEADLINE_OVERDUE, "email", False), (NotificationKind.DEADLINE_OVERDUE, "sms", False),
    ])
    NotificationPreference.objects.create(user=user, kind=NotificationKind.DEADLINE_OVERDUE, channel="in_app",
                                          enabled=False)
    [notification] = send([user], kind=NotificationKind.DEADLINE_OVERDUE, event_key="deadline:1:overdue")
    assert notification.in_app is True
    assert channels_of(user) == []


def test_preferences_refuse_unknown_events_and_channels(world):
    with pytest.raises(ValidationError):
        preferences_update(user=world.lead_responder, choices=[("birthday", "email", True)])
    with pytest.raises(ValidationError):
        preferences_update(user=world.lead_responder, choices=[(NotificationKind.HANDOFF_RECEIVED, "pigeon", True)])


def test_the_same_event_never_notifies_twice(reachable, django_capture_on_commit_callbacks):
    world = reachable
    with django_capture_on_commit_callbacks() as first:
        assert len(send([world.receiving_responder, world.receiving_supervisor])) == 2
    with django_capture_on_commit_callbacks() as again:
        assert send([world.receiving_responder, world.receiving_supervisor]) == []
    assert Notification.objects.count() == 2
    assert OutboxMessage.objects.count() == 2
    # One relay, after commit, for both rows of the event; none for the repeat.
    assert [callback.keywords["message_ids"] for callback in first] == [
        list(OutboxMessage.objects.order_by("pk").values_list("pk", flat=True))
    ]
    assert again == []
    # A new recipient of the same event is still told.
    assert len(send([world.receiving_responder, world.lead_supervisor])) == 1


def test_recipients_are_deduplicated_and_may_be_ids(world):
    created = send([world.lead_responder, world.lead_responder.pk, world.lead_responder])
    assert len(created) == 1
    assert send([]) == []


def test_outbox_rows_are_relayed_only_after_commit(reachable, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send([reachable.receiving_supervisor], kind=NotificationKind.DEADLINE_OVERDUE, event_key="deadline:1:overdue")
    [callback] = callbacks
    assert sorted(callback.keywords["message_ids"]) == sorted(OutboxMessage.objects.values_list("pk", flat=True))
    assert len(callback.keywords["message_ids"]) == 2
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"queued"}


@pytest.mark.parametrize(
    "change",
    [
        {"params": {"survivor_name": "x"}},
        {"params": {"address": "x"}},
        {"params": {"phone": "0912345678"}},
        {"params": {"description": "x"}},
        {"params": {"urgency": "Nguyễn Thị A"}},
        {"params": {"due_at": "tomorrow"}},
        {"params": {"due_at": "2026-02-25T19:00:00"}},
        {"case_number": "Nguyễn Thị A"},
        {"case_number": "HN 2026 000123"},
        {"case_number": "HN-2026-" + "0" * 30},
        {"link": "https://evil.example/cases/7/"},
        {"link": "/cases/?name=Nguyen"},
        {"link": "//evil.example/"},
        {"link": "cases/7/"},
        {"kind": "gossip"},
        {"event_key": ""},
    ],
)
def test_unsafe_content_is_refused_and_nothing_is_written(world, change):
    with pytest.raises((UnsafeNotificationContent, ValueError)):
        send([world.lead_responder], **change)
    assert not Notification.objects.exists()
    assert not OutboxMessage.objects.exists()


def survivor_details():
    fake = Faker("vi_VN")
    fake.seed_instance(2026)
    return {
        "name": fake.name(), "phone": fake.phone_number(), "address": fake.address().replace("\n", ", "),
        "description": "Bị đe dọa phát tán ảnh riêng tư trên mạng xã hội",
    }


def test_a_notification_about_an_identified_survivor_never_carries_their_details(reachable, settings):
    """The case's survivor has a name, phone and address: passing them is refused, and the texts
    built for the case hold only the case number, the event, the due time and the link."""
    settings.SITE_URL = "https://hopluc.example.vn"
    details = survivor_details()
    for key, value in details.items():
        with pytest.raises(UnsafeNotificationContent):
            send([reachable.receiving_supervisor], params={"due_at": DUE.isoformat(), key: value})
    [notification] = send(
        [reachable.receiving_supervisor], kind=NotificationKind.DEADLINE_OVERDUE, event_key="deadline:1:overdue",
        params={"due_at": DUE.isoformat(), "deadline_kind": "handoff_response"},
    )
    for language in ("vi", "en"):
        texts = notification_texts(notification=notification, language=language)
        for text in (texts.subject, texts.body, texts.sms):
            assert "HN-2026-000123" in text
            for value in details.values():
                assert value not in text
            for word in details["name"].split():
                assert word not in text.split()
        assert "https://hopluc.example.vn/cases/7/handoffs/12/" in texts.body
        assert "https://hopluc.example.vn/cases/7/handoffs/12/" in texts.sms
        assert ("19:00 25/02/2026" if language == "vi" else "25 Feb 2026, 19:00") in texts.body
        assert "\n" not in texts.subject
        assert len(texts.sms) <= 320


def test_texts_follow_the_language(world):
    [notification] = send([world.lead_responder], kind=NotificationKind.DEADLINE_OVERDUE, event_key="d:1:o")
    english = notification_texts(notification=notification, language="en")
    assert "A deadline has passed" in english.subject
    # English has its own one format (config/formats/en): the month in letters, a 24-hour clock.
    assert "Due: 25 Feb 2026, 19:00 (UTC+7)" in english.body


def test_due_time_is_shown_in_viet_nam_time_whatever_the_stored_zone(world):
    due_utc = datetime.datetime(2026, 2, 25, 12, 0, tzinfo=datetime.UTC)
    [notification] = send([world.lead_responder], params={"due_at": due_utc.isoformat()})
    assert "19:00 25/02/2026" in notification_texts(notification=notification, language="vi").sms
    assert "25 Feb 2026, 19:00" in notification_texts(notification=notification, language="en").sms
