"""Handoff services: what each step shares, takes away, notifies and records."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from audit.models import AuditEvent
from cases.models import CaseEvent
from cases.services import case_timeline
from config.exceptions import NotFound
from handoffs.models import Handoff
from handoffs.selectors import handoff_get_for_user, handoff_list_for_user, handoff_path
from handoffs.services import (
    handoff_accept,
    handoff_complete,
    handoff_decline,
    handoff_view,
    handoff_withdraw,
)
from notifications.models import Deadline, Notification
from tests.cases.services_helpers import (
    access_for,
    consent_data,
    handoff_send_through_edge,
    open_case,
    refer,
    referral_data,
    row_counts,
)


@pytest.fixture
def case(world):
    return open_case(world, consent=consent_data(world, granted_categories=["medical", "psychosocial"]))


def send(world, case, **overrides):
    return handoff_send_through_edge(access=access_for(world.lead_responder, case, "manage_sharing"),
                                     actor=world.lead_responder, data=referral_data(world, **overrides))


def counts():
    return {**row_counts(), "Handoff": Handoff.objects.count(), "Deadline": Deadline.objects.count(),
            "Notification": Notification.objects.count()}


def test_send_sets_the_deadline_and_tells_the_receiving_agency_but_shares_nothing_yet(world, case):
    before = timezone.now()
    handoff = send(world, case)
    assert handoff.status == "sent" and handoff.from_agency == world.police and handoff.to_agency == world.health
    assert datetime.timedelta(hours=12) <= handoff.due_at - before <= datetime.timedelta(hours=12, minutes=1)
    deadline = Deadline.objects.get(subject=f"handoff:{handoff.pk}")
    assert (deadline.owner_agency, deadline.escalate_agency, deadline.due_at) == (world.health, world.police,
                                                                                   handoff.due_at)
    told = set(Notification.objects.filter(event_key=f"handoff:{handoff.pk}:sent").values_list("recipient", flat=True))
    assert told == {world.receiving_responder.pk, world.receiving_supervisor.pk}
    assert set(Notification.objects.filter(event_key=f"handoff:{handoff.pk}:sent").values_list("link", flat=True)) \
        == {handoff_path(handoff.pk)}
    assert AuditEvent.objects.filter(target=f"handoff:{handoff.pk}", action="create").count() == 1
    with pytest.raises(NotFound):
        access_for(world.receiving_responder, case)
    # The receiver reads the handoff itself, and its first look is recorded.
    seen = handoff_view(user=world.receiving_responder, handoff_id=handoff.pk)
    assert seen.is_receiver and seen.handoff.viewed_by == world.receiving_responder
    handoff_view(user=world.receiving_supervisor, handoff_id=handoff.pk)
    handoff.refresh_from_db()
    assert handoff.viewed_by == world.receiving_responder


@pytest.mark.parametrize("who", ["outsider_responder", "outsider_supervisor", "lead_admin", "analyst", "sysadmin"])
def test_only_the_two_agencies_see_a_handoff(world, case, who):
    handoff = send(world, case)
    with pytest.raises(NotFound):
        handoff_get_for_user(user=getattr(world, who), handoff_id=handoff.pk)
    assert not handoff_list_for_user(user=getattr(world, who), direction="incoming").exists()
    assert not handoff_list_for_user(user=getattr(world, who), direction="outgoing").exists()


def test_lists_by_direction(world, case):
    handoff = send(world, case)
    assert list(handoff_list_for_user(user=world.receiving_responder, direction="incoming")) == [handoff]
    assert list(handoff_list_for_user(user=world.lead_supervisor, direction="outgoing")) == [handoff]
    assert not handoff_list_for_user(user=world.lead_supervisor, direction="incoming").exists()


@pytest.mark.parametrize(("overrides", "key"), [
    ({"categories": ["identity"]}, "categories"),  # refused in the consent
    ({"categories": ["education"]}, "categories"),  # no consent covers it
    ({"to_agency": None}, "to_agency"),
    ({"to_agency": 999999}, "to_agency"),
    ({"services": []}, "services"),
    ({"services": ["massage"]}, "services.0"),
    ({"urgency": "whenever"}, "urgency"),
    ({"kind": "gift"}, "kind"),
    ({"emergency_override": True, "override_reason": " "}, "override_reason"),
    ({"message": "x" * 2001}, "message"),
    ({"surprise": 1}, "surprise"),
])
def test_send_refuses_bad_input_and_writes_nothing(world, case, overrides, key):
    before = counts()
    with pytest.raises(ValidationError) as excinfo:
        send(world, case, **overrides)
    assert key in excinfo.value.message_dict
    assert counts() == before


def test_send_refuses_the_lead_itself_an_agency_without_consent_and_a_second_open_handoff(world, case):
    for overrides, key in (({"to_agency": world.police}, "to_agency"),
                           ({"to_agency": world.school, "categories": []}, "to_agency")):
        with pytest.raises(ValidationError) as excinfo:
            send(world, case, **overrides)
        assert key in excinfo.value.message_dict
    send(world, case)
    with pytest.raises(ValidationError) as excinfo:
        send(world, case)
    assert "to_agency" in excinfo.value.message_dict


def test_an_emergency_override_shares_without_consent_but_never_what_was_refused(world, case):
    with pytest.raises(ValidationError):
        send(world, case, categories=["identity"], emergency_override=True, override_reason="Nguy hiểm")
    handoff = send(world, case, to_agency=world.school, categories=["education"], emergency_override=True,
                   override_reason="Nguy hiểm đến tính mạng")
    assert AuditEvent.objects.filter(target=f"handoff:{handoff.pk}", action="consent_override").count() == 1
    handoff_accept(user=world.outsider_responder, handoff_id=handoff.pk)
    assert access_for(world.outsider_responder, case).categories == {"education"}


def test_only_the_lead_sends(world, case):
    refer(world, case)
    with pytest.raises(PermissionDenied):
        handoff_send_through_edge(access=access_for(world.receiving_responder, case), actor=world.receiving_responder,
                     data=referral_data(world, to_agency=world.school))


def test_accept_shares_the_consented_categories_asked_for_closes_the_deadline_and_tells_the_sender(world, case):
    handoff = send(world, case, categories=["medical"])
    handoff_accept(user=world.receiving_supervisor, handoff_id=handoff.pk)
    assert access_for(world.receiving_responder, case).categories == {"medical"}
    deadline = Deadline.objects.get(subject=f"handoff:{handoff.pk}")
    assert deadline.closed_at is not None and deadline.stage == "closed"
    told = set(Notification.objects.filter(event_key=f"handoff:{handoff.pk}:accepted").values_list("recipient",
                                                                                                  flat=True))
    assert told == {world.lead_responder.pk, world.lead_supervisor.pk}
    assert AuditEvent.objects.filter(target=f"handoff:{handoff.pk}", action="share").get().categories == ["medical"]
    with pytest.raises(ValidationError):
        handoff_accept(user=world.receiving_responder, handoff_id=handoff.pk)


def test_the_sender_cannot_answer_its_own_handoff_and_outsiders_cannot_touch_it(world, case):
    handoff = send(world, case)
    with pytest.raises(PermissionDenied):
        handoff_accept(user=world.lead_responder, handoff_id=handoff.pk)
    with pytest.raises(NotFound):
        handoff_accept(user=world.outsider_responder, handoff_id=handoff.pk)
    with pytest.raises(NotFound):
        handoff_withdraw(user=world.outsider_supervisor, handoff_id=handoff.pk, reason="x")
    with pytest.raises(PermissionDenied):
        handoff_withdraw(user=world.receiving_responder, handoff_id=handoff.pk, reason="x")


def test_decline_needs_a_reason_grants_nothing_and_the_case_can_be_sent_on(world, case):
    handoff = send(world, case)
    with pytest.raises(ValidationError) as excinfo:
        handoff_decline(user=world.receiving_responder, handoff_id=handoff.pk, reason="  ")
    assert "reason" in excinfo.value.message_dict
    handoff_decline(user=world.receiving_responder, handoff_id=handoff.pk, reason="Hết giường")
    with pytest.raises(NotFound):
        access_for(world.receiving_responder, case)
    assert Deadline.objects.get(subject=f"handoff:{handoff.pk}").closed_at is not None
    assert Notification.objects.filter(event_key=f"handoff:{handoff.pk}:declined").count() == 2
    onward = send(world, case, to_agency=world.school, categories=[], emergency_override=True,
                  override_reason="Cần hỗ trợ ngay", forwarded_from=handoff.pk)
    assert onward.forwarded_from == handoff


def test_withdrawing_an_accepted_referral_revokes_access(world, case):
    handoff = refer(world, case)
    handoff_withdraw(user=world.lead_supervisor, handoff_id=handoff.pk, reason="Đã chuyển nơi khác")
    with pytest.raises(NotFound):
        access_for(world.receiving_responder, case)
    assert AuditEvent.objects.filter(target=f"handoff:{handoff.pk}", action="revoke").count() == 1
    assert Notification.objects.filter(event_key=f"handoff:{handoff.pk}:withdrawn").count() == 2


def test_completion_records_the_outcome_and_reduces_access_to_the_case_facts(world, case):
    handoff = refer(world, case)
    with pytest.raises(ValidationError):
        handoff_complete(user=world.receiving_responder, handoff_id=handoff.pk, outcome="")
    handoff_complete(user=world.receiving_responder, handoff_id=handoff.pk, outcome="Đã khám, ổn định")
    access = access_for(world.receiving_responder, case)
    assert access.rights == {"view_case"} and access.categories == frozenset()
    with pytest.raises(ValidationError):
        handoff_withdraw(user=world.lead_responder, handoff_id=handoff.pk, reason="x")


def test_an_accepted_transfer_moves_the_lead_and_the_responsibility(world, case):
    handoff = send(world, case, kind="transfer")
    handoff_accept(user=world.receiving_responder, handoff_id=handoff.pk)
    case.refresh_from_db()
    assert case.lead_agency == world.health and case.responsible == world.receiving_responder
    assert access_for(world.receiving_responder, case).can("manage_sharing")
    former = access_for(world.lead_responder, case)
    assert former.rights == {"view_case", "log_action"} and not former.can("manage_sharing")
    with pytest.raises(ValidationError):
        handoff_withdraw(user=world.lead_responder, handoff_id=handoff.pk, reason="x")
    assert CaseEvent.objects.filter(case=case, type="lead_transferred").count() == 1


def test_the_timeline_tells_the_handoff_story(world, case):
    handoff = send(world, case)
    handoff_decline(user=world.receiving_responder, handoff_id=handoff.pk, reason="Hết giường")
    with translation.override("en"):
        sentences = [entry.sentence for entry in case_timeline(access=access_for(world.lead_responder, case))]
    assert any(world.health.name in s and "declined" in s for s in sentences)
    assert any(world.health.name in s and "referred" in s for s in sentences)


@pytest.mark.parametrize("end", ["decline", "withdraw", "complete"])
def test_the_receiver_no_longer_reads_the_message_once_the_handoff_is_over(world, case, end):
    handoff = send(world, case)
    assert handoff_view(user=world.receiving_responder, handoff_id=handoff.pk).sees_message
    if end == "decline":
        handoff_decline(user=world.receiving_responder, handoff_id=handoff.pk, reason="Hết giường")
    else:
        handoff_accept(user=world.receiving_responder, handoff_id=handoff.pk)
        assert handoff_view(user=world.receiving_responder, handoff_id=handoff.pk).sees_message
        if end == "withdraw":
            handoff_withdraw(user=world.lead_responder, handoff_id=handoff.pk, reason="Đã chuyển nơi khác")
        else:
            handoff_complete(user=world.receiving_responder, handoff_id=handoff.pk, outcome="Đã khám")
    assert not handoff_view(user=world.receiving_responder, handoff_id=handoff.pk).sees_message
    assert handoff_view(user=world.lead_responder, handoff_id=handoff.pk).sees_message


@pytest.mark.parametrize("accepted", [True, False], ids=["accepted", "waiting"])
def test_the_receiver_no_longer_reads_the_message_once_the_consent_is_withdrawn(world, time_limits, api, web,
                                                                                accepted):
    """The withdrawal takes the case from the hospital at once (DESIGN: "withdrawal takes effect at once"); the
    sender's message, typed about her, went on being shown to it on the handoff's page and API."""
    from cases.models import Consent
    from cases.services import consent_withdraw
    from tests.cases.services_helpers import consent_data, handoff_send_through_edge, open_case, referral_data

    secret = "Chị Mai đang ở nhà mẹ đẻ, số 7 ngõ 12"
    case = open_case(world, consent=consent_data(world, granted_categories=["medical"]))
    handoff = handoff_send_through_edge(access=access_for(world.lead_responder, case, "manage_sharing"),
                                        actor=world.lead_responder, data=referral_data(world, message=secret))
    if accepted:
        handoff_accept(user=world.receiving_responder, handoff_id=handoff.pk)
    assert api(world.receiving_responder).get(f"/api/handoffs/{handoff.pk}/").json()["message"] == secret
    consent_withdraw(access=access_for(world.lead_responder, case, "manage_sharing"), actor=world.lead_responder,
                     consent_id=Consent.objects.get(case=case, receiving_agency=world.health).pk, reason="")
    assert api(world.receiving_responder).get(f"/api/cases/{case.pk}/").status_code in (403, 404)
    assert api(world.receiving_responder).get(f"/api/handoffs/{handoff.pk}/").json()["message"] == ""
    page = web(world.receiving_responder).get(f"/handoffs/{handoff.pk}/")
    assert page.status_code == 200 and secret not in page.content.decode()
    assert api(world.lead_responder).get(f"/api/handoffs/{handoff.pk}/").json()["message"] == secret
