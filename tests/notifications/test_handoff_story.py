"""The whole story of an urgent referral nobody answers in time, with a real worker and broker.

A police responder refers a case to the hospital (urgent: 12 hours) → the response deadline is
set → the hospital's staff are told in the app and by email → no answer: a reminder, then overdue
(the hospital's supervisor), then the escalation (the police supervisor and the province's
coordinator), each exactly once however often the sweep runs → the hospital accepts → it sees the
consented categories and no more, the deadline is closed, the police are told.

Time moves by calling the sweep with a later `now`, as the beat task would at those minutes. The
worker delivers every email to files this test reads; SMS go to the console backend.
"""

import datetime
import re
from collections import Counter

import pytest
from rest_framework.test import APIClient

from cases.selectors import case_get_for_user
from notifications.models import Deadline, Notification, OutboxMessage
from notifications.services import deadline_sweep
from tests.cases.conftest import case_build, medical_consent
from tests.cases.services_helpers import consent_record_through_edge
from tests.notifications.test_worker_faults import wait_for, workers  # noqa: F401 - the fixture

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

MINUTE = datetime.timedelta(minutes=1)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def told(event_key: str) -> list[tuple[str, bool]]:
    """(recipient, shown in the app) of an event, by username."""
    return sorted(Notification.objects.filter(event_key=event_key).values_list("recipient__username", "in_app"))


def delivered(workers) -> Counter:  # noqa: F811
    """Emails the worker wrote, by recipient address."""
    addresses = Counter()
    for path in workers.emails.iterdir():
        addresses.update(re.findall(r"^To: (\S+)$", path.read_text(errors="replace"), re.M))
    return addresses


def all_sent() -> bool:
    return not OutboxMessage.objects.exclude(status=OutboxMessage.Status.SENT).exists()


def sweep_once(at) -> int:
    """Sweep at `at`, then again: the second sweep must find nothing left to fire."""
    fired = deadline_sweep(now=at)
    assert deadline_sweep(now=at) == 0
    return fired


def test_an_unanswered_urgent_referral_is_reminded_escalated_and_then_accepted(
    world, reachable, coordinator, time_limits, workers,  # noqa: F811
):
    workers.start()
    case = case_build(world)
    consent_record_through_edge(access=case_get_for_user(user=world.lead_responder, case_id=case.pk),
                                actor=world.lead_responder, data=medical_consent(world))

    # A responder sends an urgent referral.
    response = client_for(world.lead_responder).post(f"/api/cases/{case.pk}/handoffs/", {
        "kind": "referral", "to_agency": world.health.pk, "services": ["medical_care", "forensic_exam"],
        "urgency": "urgent", "categories": ["medical"], "message": "Khám và giám định trong ngày.",
    }, format="json")
    assert response.status_code == 201, response.json()
    handoff_id = response.json()["id"]

    # The deadline is set: 12 hours, a reminder three hours before, the escalation 12 hours after.
    deadline = Deadline.objects.get(subject=f"handoff:{handoff_id}")
    assert deadline.due_at - deadline.created_at < datetime.timedelta(hours=12, minutes=1)
    assert (deadline.owner_agency, deadline.escalate_agency, deadline.stage) == (world.health, world.police, "pending")
    assert (deadline.due_at - deadline.remind_at, deadline.escalate_at - deadline.due_at) == (
        datetime.timedelta(hours=3), datetime.timedelta(hours=12))

    # The receiving agency is told in the app and by email.
    assert told(f"handoff:{handoff_id}:sent") == [("receiving_responder", True), ("receiving_supervisor", True)]
    inbox = client_for(world.receiving_responder).get("/notifications/").content.decode()
    assert case.number in inbox
    assert wait_for(lambda: all_sent() and sum(delivered(workers).values()) == 2, timeout=60), delivered(workers)
    assert delivered(workers) == Counter({"receiving_responder@hopluc.invalid": 1,
                                          "receiving_supervisor@hopluc.invalid": 1})

    # No answer. Nothing is due before the reminder time.
    assert sweep_once(deadline.remind_at - MINUTE) == 0
    # The reminder goes to the hospital's responders.
    assert sweep_once(deadline.remind_at + MINUTE) == 1
    assert told(f"deadline:{deadline.pk}:reminded") == [("receiving_responder", True)]
    # Overdue: the hospital's supervisor.
    assert sweep_once(deadline.due_at + MINUTE) == 1
    assert told(f"deadline:{deadline.pk}:overdue") == [("receiving_supervisor", True)]
    # Still overdue after the further window: the police supervisor and the province's coordinator.
    assert sweep_once(deadline.escalate_at + MINUTE) == 1
    assert told(f"deadline:{deadline.pk}:escalated") == [("hanoi_coordinator", True), ("lead_supervisor", True)]
    deadline.refresh_from_db()
    assert deadline.stage == "escalated"
    assert wait_for(lambda: all_sent() and sum(delivered(workers).values()) == 6, timeout=60), delivered(workers)
    assert delivered(workers) == Counter({
        "receiving_responder@hopluc.invalid": 2, "receiving_supervisor@hopluc.invalid": 2,
        "lead_supervisor@hopluc.invalid": 1, "coordinator@hopluc.invalid": 1,
    })
    # Overdue and escalated notices also go out by SMS, once each.
    assert sorted(OutboxMessage.objects.filter(channel="sms").values_list("event_key", "recipient__username")) == [
        (f"deadline:{deadline.pk}:escalated", "lead_supervisor"),
        (f"deadline:{deadline.pk}:overdue", "receiving_supervisor"),
    ]

    # The receiver finally opens the handoff and accepts it.
    receiver = client_for(world.receiving_responder)
    assert receiver.get(f"/api/cases/{case.pk}/").status_code == 404
    assert receiver.get(f"/api/handoffs/{handoff_id}/").json()["actions"] == ["accept", "decline"]
    response = receiver.post(f"/api/handoffs/{handoff_id}/accept/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "accepted"

    # Access is granted as consented: medical data, not the refused identity.
    assert case_get_for_user(user=world.receiving_responder, case_id=case.pk).categories == {"medical"}
    detail = receiver.get(f"/api/cases/{case.pk}/").json()
    assert detail["access"]["categories"] == ["medical"] and "full_name" not in detail["survivor"]

    # The deadline closes, and no later sweep fires anything for it.
    deadline.refresh_from_db()
    assert (deadline.stage, deadline.closed_reason) == ("closed", "accepted")
    assert sweep_once(deadline.escalate_at + datetime.timedelta(days=3)) == 0

    # The sender is told, in the app and by email, exactly once each.
    assert told(f"handoff:{handoff_id}:accepted") == [("lead_responder", True), ("lead_supervisor", True)]
    assert wait_for(lambda: all_sent() and sum(delivered(workers).values()) == 8, timeout=60), delivered(workers)
    assert delivered(workers) == Counter({
        "receiving_responder@hopluc.invalid": 2, "receiving_supervisor@hopluc.invalid": 2,
        "lead_supervisor@hopluc.invalid": 2, "coordinator@hopluc.invalid": 1, "lead_responder@hopluc.invalid": 1,
    })
    assert case.number in client_for(world.lead_responder).get("/notifications/").content.decode()
    # Every message was delivered on its first attempt: nothing was sent twice.
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("sent", 1)}
