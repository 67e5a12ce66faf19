"""Deadlines: creation from time limits, closing, and the sweep's stages and recipients."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.services import membership_add
from notifications.models import Deadline, Notification, NotificationKind, OutboxMessage
from notifications.services import deadline_close, deadline_create, deadline_sweep
from tests.conftest import make_user

from .conftest import vn

MINUTE = datetime.timedelta(minutes=1)


def handoff_deadline(world, *, urgency="standard", start=None, number="HN-2026-000123", **extra):
    options = {
        "kind": Deadline.Kind.HANDOFF_RESPONSE, "subject": "handoff:12", "owner_agency": world.health,
        "escalate_agency": world.police, "rule": f"handoff_response_{urgency}", "start": start or vn(2026, 1, 9, 19, 0),
        "case_id": 7, "case_number": number, "link": "/cases/7/handoffs/12/",
    }
    options.update(extra)
    return deadline_create(**options)


def recipients_of(kind):
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


# --- Creating -------------------------------------------------------------------------------------


def test_standard_handoff_sent_friday_evening_is_due_wednesday_same_time(world, time_limits, calendar):
    deadline = handoff_deadline(world)
    assert deadline.due_at == vn(2026, 1, 14, 19, 0)
    assert deadline.rule.code == "handoff_response_standard"
    # A quarter of the time allowed at most a day before; escalation a day (the cap) after.
    assert deadline.remind_at == vn(2026, 1, 13, 19, 0)
    assert deadline.escalate_at == vn(2026, 1, 15, 19, 0)
    assert (deadline.stage, deadline.next_fire_at) == (Deadline.Stage.PENDING, deadline.remind_at)


def test_emergency_handoff_is_due_in_an_hour_and_escalates_an_hour_later(world, time_limits):
    deadline = handoff_deadline(world, urgency="emergency", start=vn(2026, 2, 17, 3, 0))
    assert deadline.due_at == vn(2026, 2, 17, 4, 0)
    assert deadline.remind_at == vn(2026, 2, 17, 3, 45)
    assert deadline.escalate_at == vn(2026, 2, 17, 5, 0)


def test_standard_handoff_during_tet(world, time_limits, calendar):
    assert handoff_deadline(world, start=vn(2026, 2, 13, 16, 0)).due_at == vn(2026, 2, 25, 16, 0)


def test_handoff_limit_follows_a_settings_override(world, time_limits, settings):
    settings.TIME_LIMIT_OVERRIDES = {"handoff_response_urgent": "6 hours"}
    assert handoff_deadline(world, urgency="urgent", start=vn(2026, 3, 2, 8, 0)).due_at == vn(2026, 3, 2, 14, 0)


def test_legal_limit_child_at_serious_risk(world, time_limits):
    deadline = deadline_create(
        kind=Deadline.Kind.LEGAL_LIMIT, subject="case:7:child_risk", owner_agency=world.police,
        rule="child_serious_risk_intervention", start=vn(2026, 2, 16, 22, 0), case_id=7, case_number="HN-2026-000123",
        link="/cases/7/",
    )
    assert deadline.due_at == vn(2026, 2, 17, 10, 0)


def test_follow_up_with_an_explicit_due_time(world):
    deadline = deadline_create(
        kind=Deadline.Kind.FOLLOW_UP, subject="action:3", owner_agency=world.police, owner_user=world.lead_responder,
        due_at=vn(2026, 3, 5, 9, 0), start=vn(2026, 3, 1, 9, 0), case_number="HN-2026-000123", link="/cases/7/",
    )
    assert deadline.rule is None
    assert deadline.remind_at == vn(2026, 3, 4, 9, 0)


@pytest.mark.parametrize(
    "change, error",
    [
        ({"kind": "birthday"}, "kind"),
        ({"rule": None}, "either"),
        ({"due_at": vn(2026, 3, 5, 9, 0)}, "either"),
        ({"rule": "no_such_rule"}, "no time limit"),
        ({"case_number": "Nguyễn Thị A"}, "case_number"),
        ({"link": "https://evil.example/"}, "link"),
        ({"remind_at": vn(2026, 1, 20, 0, 0)}, "reminder"),
    ],
)
def test_bad_deadlines_are_refused(world, time_limits, change, error):
    with pytest.raises(ValueError, match=error):
        handoff_deadline(world, **change)
    assert not Deadline.objects.exists()


def test_close_closes_every_open_deadline_of_the_subject_only(world, time_limits):
    first = handoff_deadline(world)
    second = handoff_deadline(world, kind=Deadline.Kind.FOLLOW_UP)
    other = handoff_deadline(world, subject="handoff:13")
    assert deadline_close(subject="handoff:12", reason="accepted") == 2
    for deadline in (first, second):
        deadline.refresh_from_db()
        assert (deadline.stage, deadline.closed_reason, deadline.next_fire_at) == ("closed", "accepted", None)
    other.refresh_from_db()
    assert other.closed_at is None
    assert deadline_close(subject="handoff:12", reason="again") == 0


def test_close_by_kind(world, time_limits):
    response = handoff_deadline(world)
    follow_up = handoff_deadline(world, kind=Deadline.Kind.FOLLOW_UP)
    deadline_close(subject="handoff:12", reason="answered", kind=Deadline.Kind.HANDOFF_RESPONSE)
    response.refresh_from_db()
    follow_up.refresh_from_db()
    assert response.closed_at is not None and follow_up.closed_at is None


# --- The sweep ------------------------------------------------------------------------------------


def test_each_stage_fires_at_its_time_to_its_people(world, time_limits, calendar, coordinator, reachable):
    deadline = handoff_deadline(world)
    assert deadline_sweep(now=deadline.remind_at - MINUTE) == 0

    assert deadline_sweep(now=deadline.remind_at) == 1
    assert recipients_of(NotificationKind.DEADLINE_REMINDER) == {"receiving_responder"}
    assert deadline_sweep(now=deadline.remind_at + MINUTE) == 0

    assert deadline_sweep(now=deadline.due_at) == 1
    assert recipients_of(NotificationKind.DEADLINE_OVERDUE) == {"receiving_supervisor"}

    assert deadline_sweep(now=deadline.escalate_at) == 1
    assert recipients_of(NotificationKind.DEADLINE_ESCALATED) == {"lead_supervisor", "hanoi_coordinator"}
    deadline.refresh_from_db()
    assert (deadline.stage, deadline.next_fire_at, deadline.closed_at) == ("escalated", None, None)
    assert deadline_sweep(now=deadline.escalate_at + datetime.timedelta(days=30)) == 0

    notification = Notification.objects.get(kind=NotificationKind.DEADLINE_OVERDUE)
    assert notification.case_number == "HN-2026-000123"
    assert notification.link == "/cases/7/handoffs/12/"
    assert notification.params == {"due_at": deadline.due_at.isoformat(), "deadline_kind": "handoff_response"}
    # Outsiders never hear of it.
    assert not Notification.objects.filter(recipient__username__startswith="outsider").exists()
    assert not Notification.objects.filter(recipient=world.lead_responder).exists()


def test_the_reminder_goes_to_the_owner_when_there_is_one(world, time_limits):
    extra = make_user("second_health_responder")
    membership_add(user=extra, agency=world.health, role="responder")
    deadline = handoff_deadline(world, owner_user=extra)
    deadline_sweep(now=deadline.remind_at)
    assert recipients_of(NotificationKind.DEADLINE_REMINDER) == {"second_health_responder"}


def test_after_downtime_every_missed_stage_fires_once_in_order(world, time_limits, coordinator, reachable):
    deadline = handoff_deadline(world, urgency="emergency", start=vn(2026, 2, 17, 3, 0))
    assert deadline_sweep(now=deadline.escalate_at + datetime.timedelta(hours=5)) == 3
    kinds = list(dict.fromkeys(Notification.objects.order_by("pk").values_list("kind", flat=True)))
    assert kinds == [
        NotificationKind.DEADLINE_REMINDER, NotificationKind.DEADLINE_OVERDUE, NotificationKind.DEADLINE_ESCALATED
    ]
    assert Notification.objects.filter(kind=NotificationKind.DEADLINE_REMINDER).count() == 1
    assert Notification.objects.filter(kind=NotificationKind.DEADLINE_OVERDUE).count() == 1
    assert Notification.objects.filter(kind=NotificationKind.DEADLINE_ESCALATED).count() == 2
    assert deadline_sweep(now=deadline.escalate_at + datetime.timedelta(hours=6)) == 0


def test_a_closed_deadline_never_fires(world, time_limits):
    deadline = handoff_deadline(world)
    deadline_close(subject="handoff:12", reason="accepted")
    assert deadline_sweep(now=deadline.escalate_at + datetime.timedelta(days=1)) == 0
    assert not Notification.objects.exists()


def test_a_deadline_closed_between_stages_stops_there(world, time_limits):
    deadline = handoff_deadline(world)
    deadline_sweep(now=deadline.remind_at)
    deadline_close(subject="handoff:12", reason="accepted")
    assert deadline_sweep(now=deadline.escalate_at) == 0
    assert set(Notification.objects.values_list("kind", flat=True)) == {NotificationKind.DEADLINE_REMINDER}


def test_a_failing_stage_rolls_back_its_claim_and_does_not_stop_the_others(world, time_limits, reachable):
    broken = handoff_deadline(world)
    healthy = handoff_deadline(world, subject="handoff:13", number="HN-2026-000124")
    # Data that notify refuses (a name where the case number goes) makes the stage fail inside
    # the claim's transaction.
    Deadline.objects.filter(pk=broken.pk).update(case_number="Nguyễn Văn B")
    assert deadline_sweep(now=broken.remind_at) == 1
    broken.refresh_from_db()
    assert (broken.stage, broken.next_fire_at) == ("pending", broken.remind_at)
    assert not OutboxMessage.objects.filter(notification__case_number="Nguyễn Văn B").exists()
    healthy.refresh_from_db()
    assert healthy.stage == "reminded"
    assert set(Notification.objects.values_list("case_number", flat=True)) == {"HN-2026-000124"}


def test_each_stage_writes_its_outbox_rows_with_the_claim(world, time_limits, coordinator, reachable):
    deadline = handoff_deadline(world)
    deadline_sweep(now=deadline.escalate_at)
    by_kind = {
        kind: sorted(OutboxMessage.objects.filter(notification__kind=kind).values_list("channel", flat=True))
        for kind in (NotificationKind.DEADLINE_REMINDER, NotificationKind.DEADLINE_OVERDUE)
    }
    # Defaults: email for everything, SMS for escalations only; the coordinator has no phone.
    assert by_kind[NotificationKind.DEADLINE_REMINDER] == ["email"]
    assert by_kind[NotificationKind.DEADLINE_OVERDUE] == ["email", "sms"]
    escalated = OutboxMessage.objects.filter(notification__kind=NotificationKind.DEADLINE_ESCALATED)
    assert sorted(escalated.values_list("recipient__username", "channel")) == [
        ("hanoi_coordinator", "email"), ("lead_supervisor", "email"), ("lead_supervisor", "sms"),
    ]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"queued"}


def test_sweep_queries_grow_with_stages_fired_not_with_waiting_rows(world, time_limits, reachable):
    due = [handoff_deadline(world, subject=f"handoff:{n}") for n in range(5)]
    for n in range(20):
        handoff_deadline(world, subject=f"later:{n}", start=vn(2026, 6, 1, 9, 0))
    with CaptureQueriesContext(connection) as queries:
        assert deadline_sweep(now=due[0].remind_at) == 5
    assert len(queries) <= 1 + 5 * 11, "\n".join(q["sql"] for q in queries.captured_queries)


def sweep_queries(now) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        fired = deadline_sweep(now=now)
    return fired, len(queries)


def test_a_batch_costs_the_same_queries_for_3_deadlines_as_for_30(world, time_limits, coordinator, reachable):
    """Set-based: one claim, recipients, preferences and addresses once, one INSERT each for the
    notifications and outbox rows, whatever the batch holds."""
    few = [handoff_deadline(world, subject=f"handoff:{n}") for n in range(3)]
    fired_few, queries_few = sweep_queries(few[0].remind_at)
    Notification.objects.all().delete()
    Deadline.objects.all().delete()
    many = [handoff_deadline(world, subject=f"handoff:{n}") for n in range(30)]
    fired_many, queries_many = sweep_queries(many[0].remind_at)
    assert (fired_few, fired_many) == (3, 30)
    assert queries_many == queries_few <= 12
    assert Notification.objects.filter(kind=NotificationKind.DEADLINE_REMINDER).count() == 30


def test_missed_stages_of_a_batch_fire_in_one_claim_each_once(world, time_limits, coordinator, reachable):
    due = [handoff_deadline(world, subject=f"handoff:{n}") for n in range(4)]
    fired, queries = sweep_queries(due[0].escalate_at)
    assert fired == 12
    # One claim, one UPDATE (all reach "escalated"), recipients (2), preferences, notifications,
    # addresses, outbox rows, and the empty next claim.
    assert queries <= 12
    for deadline in due:
        keys = Notification.objects.filter(event_key__startswith=f"deadline:{deadline.pk}:")
        assert sorted(keys.values_list("event_key", "recipient__username")) == [
            (f"deadline:{deadline.pk}:escalated", "hanoi_coordinator"),
            (f"deadline:{deadline.pk}:escalated", "lead_supervisor"),
            (f"deadline:{deadline.pk}:overdue", "receiving_supervisor"),
            (f"deadline:{deadline.pk}:reminded", "receiving_responder"),
        ]
        deadline.refresh_from_db()
        assert (deadline.stage, deadline.next_fire_at) == ("escalated", None)
    assert deadline_sweep(now=due[0].escalate_at) == 0


def test_a_sweep_with_a_limit_leaves_the_rest_for_the_next(world, time_limits, reachable):
    due = [handoff_deadline(world, subject=f"handoff:{n}") for n in range(5)]
    assert deadline_sweep(now=due[0].remind_at, limit=2, batch_size=1) == 2
    assert Deadline.objects.filter(stage="reminded").count() == 2
    assert deadline_sweep(now=due[0].remind_at, limit=10, batch_size=2) == 3
    assert Deadline.objects.filter(stage="reminded").count() == 5


def test_a_failing_batch_is_fired_one_deadline_at_a_time(world, time_limits, reachable):
    """A receiver that fails for one deadline rolls the batch back; the others fire one at a time and
    the broken one waits, pending, for the next sweep."""
    from notifications.signals import deadline_stage_reached

    due = [handoff_deadline(world, subject=f"handoff:{n}") for n in range(3)]
    broken = due[1]

    def fail_for_broken(sender, *, reached, **kwargs):
        if any(deadline.pk == broken.pk for deadline, _stage, _at in reached):
            raise RuntimeError("receiver failed")

    deadline_stage_reached.connect(fail_for_broken, dispatch_uid="test_fail_for_broken")
    try:
        assert deadline_sweep(now=broken.remind_at) == 2
    finally:
        deadline_stage_reached.disconnect(dispatch_uid="test_fail_for_broken")
    broken.refresh_from_db()
    assert (broken.stage, broken.next_fire_at) == ("pending", broken.remind_at)
    assert not Notification.objects.filter(event_key__startswith=f"deadline:{broken.pk}:").exists()
    assert Deadline.objects.filter(stage="reminded").count() == 2
    assert Notification.objects.filter(kind=NotificationKind.DEADLINE_REMINDER).count() == 2
    assert deadline_sweep(now=broken.remind_at) == 1
