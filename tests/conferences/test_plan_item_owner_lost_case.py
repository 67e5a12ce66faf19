"""A plan item whose owner agency loses the case (audit finding A5): its deadline leaves that agency's deadline
lists (page and API) and the sweep tells it nothing more, since the agency may no longer learn of the case; and
it does not lapse: the meeting's coordinating agency, which may still finish or cancel the item, answers for it
(its supervisors list it, are reminded and told when it is overdue). The same when the consent expires by
time, with nothing run at that instant. Synthetic data only."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from cases.models import Consent
from cases.selectors import case_get_for_user
from cases.services import consent_withdraw
from conferences.services import plan_item_add
from notifications.models import Deadline, Notification
from notifications.tasks import sweep_deadlines
from tests.cases.conftest import case_build, medical_consent, referral_accepted
from tests.cases.services_helpers import consent_record_through_edge

from .conftest import access_of, meeting_build

pytestmark = pytest.mark.django_db

MINUTE = datetime.timedelta(minutes=1)
HEALTH = ("receiving_responder", "receiving_supervisor")
DEADLINES_API, DEADLINES_PAGE = "/api/deadlines/", "/notifications/deadlines/"


def _plan_item(world, met, *, due_in: datetime.timedelta):
    item = plan_item_add(access=access_of(world.lead_supervisor, met.meeting), actor=world.lead_supervisor,
                         meeting_case_id=met.row.pk, action="Đưa nạn nhân đi khám lại.",
                         owner_agency_id=world.health.pk, owner_user=world.receiving_responder,
                         due_at=timezone.now() + due_in)
    return Deadline.objects.get(subject=f"plan_item:{item.pk}", kind=Deadline.Kind.ACTION_PLAN)


def _listed(client, deadline) -> tuple[bool, bool]:
    """Whether the deadline is on the user's deadline list: (API, page)."""
    api_ids = [row["id"] for row in client.get(DEADLINES_API).json()["results"]]
    page = client.get(DEADLINES_PAGE).content.decode()
    return deadline.pk in api_ids, f'data-testid="deadline-{deadline.pk}"' in page


def _told(deadline) -> dict[str, list[str]]:
    """{stage: usernames told} of the deadline's notifications."""
    told: dict[str, list[str]] = {}
    for key, name in (Notification.objects.filter(event_key__startswith=f"deadline:{deadline.pk}:")
                      .values_list("event_key", "recipient__username").order_by("event_key", "recipient__username")):
        told.setdefault(key.rsplit(":", 1)[1], []).append(name)
    return told


def _sweep_at(moment: datetime.datetime) -> None:
    """The beat's sweep task, run in this process at `moment`."""
    with time_machine.travel(moment, tick=False):
        sweep_deadlines.apply()


def test_withdrawn_consent_moves_the_plan_item_deadline_from_the_owner_to_the_coordinator(world, met, api):
    deadline = _plan_item(world, met, due_in=datetime.timedelta(hours=6))
    coordinator = api(world.lead_supervisor)
    assert _listed(api(world.receiving_responder), deadline) == (True, True)
    # Before: the coordinator is told only once the owner's deadline escalates.
    assert _listed(coordinator, deadline) == (False, False)

    lead = case_get_for_user(user=world.lead_responder, case_id=met.case.pk)
    consent = Consent.objects.get(case=met.case, receiving_agency=world.health)
    consent_withdraw(access=lead, actor=world.lead_responder, consent_id=consent.pk, reason="")

    for name in HEALTH:
        client = api(getattr(world, name))
        assert _listed(client, deadline) == (False, False), name
        assert met.case.number not in client.get(DEADLINES_PAGE).content.decode()
    assert _listed(coordinator, deadline) == (True, True)
    # The coordinating agency's responders cannot finish the item: the supervisors answer for it.
    assert _listed(api(world.lead_responder), deadline) == (False, False)
    for name in ("outsider_responder", "outsider_supervisor"):
        assert _listed(api(getattr(world, name)), deadline) == (False, False)
    for name in ("analyst", "province_analyst", "lead_admin"):
        assert api(getattr(world, name)).get(DEADLINES_API).status_code == 403

    _sweep_at(deadline.remind_at + MINUTE)
    assert _told(deadline) == {"reminded": ["lead_supervisor"]}
    _sweep_at(deadline.escalate_at + MINUTE)
    told = _told(deadline)
    assert told["overdue"] == ["lead_supervisor"] and told["escalated"] == ["lead_supervisor"]
    assert not Notification.objects.filter(event_key__startswith=f"deadline:{deadline.pk}:",
                                           recipient__username__in=HEALTH).exists()


def test_before_the_loss_the_owner_is_reminded_as_before(world, met):
    deadline = _plan_item(world, met, due_in=datetime.timedelta(hours=6))
    _sweep_at(deadline.escalate_at + MINUTE)
    assert _told(deadline) == {"escalated": ["lead_supervisor"], "overdue": ["receiving_supervisor"],
                               "reminded": ["receiving_responder"]}


def test_a_consent_that_expires_by_time_moves_it_at_that_instant(world, time_limits, api):
    start = timezone.now()
    expires = start + datetime.timedelta(hours=2)
    case = case_build(world)
    lead = case_get_for_user(user=world.lead_responder, case_id=case.pk)
    consent_record_through_edge(access=lead, actor=world.lead_responder,
                                data={**medical_consent(world), "expires_at": expires})
    referral_accepted(world, case, to=world.health, categories=["medical"])
    met = meeting_build(world, case)
    # Due within DEADLINE_DUE_SOON_HOURS, so that the page lists it too; reminded after the expiry.
    deadline = _plan_item(world, met, due_in=datetime.timedelta(hours=20))
    assert expires < deadline.remind_at

    with time_machine.travel(expires - MINUTE, tick=False):
        assert _listed(api(world.receiving_responder), deadline) == (True, True)
        assert _listed(api(world.lead_supervisor), deadline) == (False, False)
    # Nothing runs when the consent expires: the lists and the sweep read the access rows' validity.
    with time_machine.travel(expires + MINUTE, tick=False):
        for name in HEALTH:
            assert _listed(api(getattr(world, name)), deadline) == (False, False), name
        assert _listed(api(world.lead_supervisor), deadline) == (True, True)
    _sweep_at(deadline.remind_at + MINUTE)
    assert _told(deadline) == {"reminded": ["lead_supervisor"]}
