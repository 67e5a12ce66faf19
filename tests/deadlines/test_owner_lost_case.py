"""A follow-up another agency set on a case, once that agency loses the case (audit finding A5, the same rule as a
plan item's: notifications.sight): it leaves the owner agency's deadline lists and the supervisor dashboard, the
sweep tells the owner nothing more, and the lead, to which it escalates, answers for it: its supervisors list it
and are reminded, and the lead may mark it done on the case. A handoff's response deadline is the receiving
agency's answer to the handoff, which it reads before it sees the case: it stays on its list. Synthetic data."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from cases.models import Consent
from cases.services import consent_withdraw
from deadlines.services import case_deadline_done, case_deadline_set
from notifications.models import Deadline, Notification
from notifications.tasks import sweep_deadlines
from tests.cases.services_helpers import access_for, consent_data, open_case, refer

pytestmark = pytest.mark.usefixtures("time_limits")

MINUTE = datetime.timedelta(minutes=1)
HEALTH = ("receiving_responder", "receiving_supervisor")


def _listed(client, deadline) -> tuple[bool, bool]:
    """Whether the deadline is on the user's deadline list: (API, page)."""
    api_ids = [row["id"] for row in client.get("/api/deadlines/").json()["results"]]
    page = client.get("/notifications/deadlines/").content.decode()
    return deadline.pk in api_ids, f'data-testid="deadline-{deadline.pk}"' in page


def _health_follow_up(world):
    case = open_case(world, consent=consent_data(world))
    refer(world, case)
    deadline = case_deadline_set(access=access_for(world.receiving_responder, case), actor=world.receiving_responder,
                                 data={"kind": "follow_up", "due_at": timezone.now() + datetime.timedelta(hours=6)})
    assert (deadline.owner_agency, deadline.escalate_agency) == (world.health, world.police)
    return case, deadline


def _withdraw(world, case):
    consent = Consent.objects.get(case=case, receiving_agency=world.health)
    consent_withdraw(access=access_for(world.lead_responder, case), actor=world.lead_responder,
                     consent_id=consent.pk, reason="")


def test_a_follow_up_of_an_agency_that_lost_the_case_passes_to_the_lead(world, api):
    case, deadline = _health_follow_up(world)
    assert _listed(api(world.receiving_responder), deadline) == (True, True)
    _withdraw(world, case)

    for name in HEALTH:
        client = api(getattr(world, name))
        assert _listed(client, deadline) == (False, False), name
        assert case.number not in client.get("/notifications/deadlines/").content.decode()
    assert _listed(api(world.lead_supervisor), deadline) == (True, True)
    assert _listed(api(world.lead_responder), deadline) == (False, False)
    assert _listed(api(world.outsider_supervisor), deadline) == (False, False)

    with time_machine.travel(deadline.escalate_at + MINUTE, tick=False):
        sweep_deadlines.apply()
        # Overdue now: the owner's supervisor finds it on no dashboard either.
        health_board = api(world.receiving_supervisor).get("/api/supervision/dashboard/").json()
        police_board = api(world.lead_supervisor).get("/api/supervision/dashboard/").json()
    assert case.number not in str(health_board["overdue"]) and health_board["overdue_count"] == 0
    assert [row["id"] for row in police_board["overdue"]] == [deadline.pk]
    told = dict(Notification.objects.filter(event_key__startswith=f"deadline:{deadline.pk}:")
                .values_list("event_key", "recipient__username"))
    assert told == {f"deadline:{deadline.pk}:{stage}": "lead_supervisor"
                    for stage in ("reminded", "overdue", "escalated")}

    # The lead answers for it now: it may mark it done on the case, as the owner could.
    listed = api(world.lead_supervisor).get(f"/api/cases/{case.pk}/deadlines/").json()
    assert [row["allowed_actions"] for row in listed if row["id"] == deadline.pk] == [["done"]]
    done = api(world.lead_supervisor).post(f"/api/cases/{case.pk}/deadlines/{deadline.pk}/done/", {},
                                           format="json")
    assert done.status_code == 200 and done.json()["stage"] == "closed"


def test_while_the_owner_sees_the_case_the_lead_cannot_mark_its_follow_up_done(world):
    case, deadline = _health_follow_up(world)
    with pytest.raises(PermissionDenied):
        case_deadline_done(access=access_for(world.lead_supervisor, case), actor=world.lead_supervisor,
                           deadline_id=deadline.pk)
    with time_machine.travel(deadline.escalate_at + MINUTE, tick=False):
        sweep_deadlines.apply()
    told = dict(Notification.objects.filter(event_key__startswith=f"deadline:{deadline.pk}:")
                .values_list("event_key", "recipient__username"))
    assert told == {f"deadline:{deadline.pk}:reminded": "receiving_responder",
                    f"deadline:{deadline.pk}:overdue": "receiving_supervisor",
                    f"deadline:{deadline.pk}:escalated": "lead_supervisor"}


def test_a_waiting_handoffs_response_deadline_stays_the_receivers(world, api):
    """The receiving agency of a waiting handoff does not see the case (consent or not): the handoff's own access
    decides, and its answer is still due."""
    case = open_case(world, consent=consent_data(world))
    handoff = refer(world, case, accept=False)
    _withdraw(world, case)
    deadline = Deadline.objects.get(subject=f"handoff:{handoff.pk}")
    assert _listed(api(world.receiving_responder), deadline) == (True, True)
    with time_machine.travel(deadline.remind_at + MINUTE, tick=False):
        sweep_deadlines.apply()
    assert sorted(Notification.objects.filter(event_key=f"deadline:{deadline.pk}:reminded")
                  .values_list("recipient__username", flat=True)) == ["receiving_responder"]
