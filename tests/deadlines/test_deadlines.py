"""Case deadlines: the legal time limits a case opened for a child starts, what closes them, and
the follow-ups and action plans responders set (service, sweep recipients, API)."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from cases.services import action_log, case_change_status
from config.exceptions import NotFound
from deadlines.apis import CaseDeadlineSetApi
from deadlines.selectors import deadline_is_overdue
from deadlines.services import case_deadline_done, case_deadline_set
from notifications.calendar import VIETNAM
from notifications.models import Deadline, Notification
from notifications.services import deadline_sweep
from tests.cases.services_helpers import (
    access_for,
    consent_data,
    incident_data,
    open_case,
    refer,
    survivor_data,
    through_edge,
)

pytestmark = pytest.mark.usefixtures("time_limits")


def child(**overrides):
    # Born 10 years ago: a child under 16 on any day of this year.
    return survivor_data(birth_year=timezone.localdate().year - 10, **overrides)


def child_consent(world, **overrides):
    return consent_data(world, given_by="survivor_and_guardian", guardian_relationship="Mẹ", **overrides)


def legal(case) -> dict[str, Deadline]:
    return {d.rule.code: d for d in Deadline.objects.filter(case_id=case.pk, kind="legal_limit").select_related("rule")}


def test_a_child_case_starts_the_support_plan_and_at_high_risk_the_emergency_intervention(world):
    opened = datetime.datetime(2026, 3, 6, 10, 0, tzinfo=VIETNAM)  # a Friday
    incident = incident_data(world, occurred_on=datetime.date(2026, 3, 5), reported_on=datetime.date(2026, 3, 6))
    case = open_case(world, survivor=child(), risk_level="high", opened_at=opened, incident=incident)
    limits = legal(case)
    assert set(limits) == {"child_support_plan", "child_serious_risk_intervention"}
    plan, emergency = limits["child_support_plan"], limits["child_serious_risk_intervention"]
    assert emergency.due_at == opened + datetime.timedelta(hours=12)
    # Five working days from a Friday: Mon–Fri of the next week.
    assert plan.due_at == datetime.datetime(2026, 3, 13, 10, 0, tzinfo=VIETNAM)
    for deadline in limits.values():
        assert (deadline.owner_agency, deadline.owner_user, deadline.escalate_agency) == (world.police,
                                                                                          world.lead_responder, None)
        assert (deadline.case_number, deadline.link, deadline.stage) == (case.number, f"/cases/{case.pk}/", "pending")


@pytest.mark.parametrize(("survivor", "risk", "codes"), [
    (child(), "medium", {"child_support_plan"}),
    (child(), "severe", {"child_support_plan", "child_serious_risk_intervention"}),
    (survivor_data(), "severe", set()),  # an adult
    (survivor_data(birth_year=None), "severe", set()),  # age unknown
    # 17: a minor but not a child under the Law on Children.
    (survivor_data(birth_year=timezone.localdate().year - 18), "severe", set()),
])
def test_legal_limits_apply_to_children_only(world, survivor, risk, codes):
    case = open_case(world, survivor=survivor, risk_level=risk)
    assert set(legal(case)) == codes


def test_a_refused_opening_starts_no_deadline(world):
    with pytest.raises(ValidationError):
        open_case(world, survivor=child(), risk_level="catastrophic")
    assert not Deadline.objects.exists()


def test_the_matching_actions_close_the_legal_limits(world):
    case = open_case(world, survivor=child(), risk_level="high")
    lead = access_for(world.lead_responder, case)
    action_log(access=lead, actor=world.lead_responder, data={"type": "note", "text": "Ghi chú"})
    assert {d.stage for d in legal(case).values()} == {"pending"}
    action_log(access=lead, actor=world.lead_responder, data={"type": "shelter_placement", "text": "Nhà tạm lánh"})
    limits = legal(case)
    assert limits["child_serious_risk_intervention"].stage == "closed"
    assert limits["child_serious_risk_intervention"].closed_reason.startswith("action:")
    assert limits["child_support_plan"].stage == "pending"
    action_log(access=lead, actor=world.lead_responder, data={"type": "counselling", "text": "Tư vấn lần 1"})
    assert legal(case)["child_support_plan"].stage == "closed"


def test_closing_the_case_closes_its_own_deadlines_but_not_a_pending_handoffs(world):
    case = open_case(world, survivor=child(), risk_level="high", consent=child_consent(world))
    handoff = refer(world, case, accept=False)
    lead = access_for(world.lead_responder, case)
    follow_up = case_deadline_set(access=lead, actor=world.lead_responder,
                                  data={"kind": "follow_up", "due_at": timezone.now() + datetime.timedelta(days=3)})
    case_change_status(access=lead, actor=world.lead_responder, status="closed", close_reason="Safe now.")
    assert {d.stage for d in legal(case).values()} == {"closed"}
    follow_up.refresh_from_db()
    assert (follow_up.stage, follow_up.closed_reason) == ("closed", "case closed")
    assert Deadline.objects.get(subject=f"handoff:{handoff.pk}").stage == "pending"


def test_a_responder_sets_a_follow_up_that_reminds_them_and_escalates_to_the_lead(world):
    case = open_case(world, consent=consent_data(world))
    refer(world, case)
    health = access_for(world.receiving_responder, case)
    due = timezone.now() + datetime.timedelta(hours=4)
    deadline = case_deadline_set(access=health, actor=world.receiving_responder,
                                 data=through_edge(CaseDeadlineSetApi.InputSerializer,
                                                   {"kind": "follow_up", "due_at": due.isoformat()}))
    assert (deadline.owner_agency, deadline.owner_user, deadline.escalate_agency) == (world.health,
                                                                                      world.receiving_responder,
                                                                                      world.police)
    assert deadline.due_at == due and deadline.case_number == case.number
    assert AuditEvent.objects.filter(target=f"deadline:{deadline.pk}", action="create").count() == 1
    assert deadline_sweep(now=deadline.escalate_at + datetime.timedelta(minutes=1)) == 3
    told = dict(Notification.objects.filter(event_key__startswith=f"deadline:{deadline.pk}:")
                .values_list("recipient__username", "event_key"))
    assert told == {"receiving_responder": f"deadline:{deadline.pk}:reminded",
                    "receiving_supervisor": f"deadline:{deadline.pk}:overdue",
                    "lead_supervisor": f"deadline:{deadline.pk}:escalated"}


def test_a_follow_up_action_closes_the_earliest_follow_up_of_its_own_agency(world):
    case = open_case(world, consent=consent_data(world))
    refer(world, case)
    now = timezone.now()
    lead, health = access_for(world.lead_responder, case), access_for(world.receiving_responder, case)
    police_soon = case_deadline_set(access=lead, actor=world.lead_responder,
                                    data={"kind": "follow_up", "due_at": now + datetime.timedelta(days=1)})
    police_later = case_deadline_set(access=lead, actor=world.lead_responder,
                                     data={"kind": "follow_up", "due_at": now + datetime.timedelta(days=5)})
    plan = case_deadline_set(access=lead, actor=world.lead_responder,
                             data={"kind": "action_plan", "due_at": now + datetime.timedelta(hours=2)})
    action_log(access=health, actor=world.receiving_responder, data={"type": "follow_up", "text": "Gọi lại"})
    assert Deadline.objects.filter(closed_at__isnull=True).filter(
        pk__in=[police_soon.pk, police_later.pk, plan.pk]).count() == 3
    action_log(access=lead, actor=world.lead_responder, data={"type": "follow_up", "text": "Gặp trực tiếp"})
    stages = dict(Deadline.objects.filter(pk__in=[police_soon.pk, police_later.pk, plan.pk])
                  .values_list("pk", "stage"))
    assert stages == {police_soon.pk: "closed", police_later.pk: "pending", plan.pk: "pending"}


@pytest.mark.parametrize(("data", "key"), [
    ({"kind": "follow_up", "due_at": "2000-01-01T10:00"}, "due_at"),
    ({"kind": "follow_up", "due_at": "soon"}, "due_at"),
    ({"kind": "follow_up"}, "due_at"),
    ({"kind": "follow_up", "due_at": "2999-01-01T10:00"}, "due_at"),
    ({"kind": "legal_limit", "due_at": "2999-01-01T10:00"}, "kind"),
    ({"kind": "handoff_response", "due_at": "2999-01-01T10:00"}, "kind"),
    ({"kind": "follow_up", "due_at": "2999-01-01T10:00", "owner_user": 1}, "owner_user"),
])
def test_setting_a_deadline_refuses_bad_input_and_writes_nothing(world, data, key):
    case = open_case(world)
    with pytest.raises(ValidationError) as excinfo:
        case_deadline_set(access=access_for(world.lead_responder, case), actor=world.lead_responder,
                          data=through_edge(CaseDeadlineSetApi.InputSerializer, data))
    assert key in excinfo.value.message_dict
    assert not Deadline.objects.exists()


def test_only_the_owner_agency_marks_a_deadline_done_and_never_a_handoffs(world):
    case = open_case(world, survivor=child(), consent=child_consent(world))
    handoff = refer(world, case)
    plan = legal(case)["child_support_plan"]
    with pytest.raises(PermissionDenied):
        case_deadline_done(access=access_for(world.receiving_responder, case), actor=world.receiving_responder,
                           deadline_id=plan.pk)
    handoff_deadline = Deadline.objects.get(subject=f"handoff:{handoff.pk}")
    with pytest.raises(NotFound):
        case_deadline_done(access=access_for(world.lead_responder, case), actor=world.lead_responder,
                           deadline_id=handoff_deadline.pk)
    other = open_case(world, survivor=child())
    with pytest.raises(NotFound):
        case_deadline_done(access=access_for(world.lead_responder, case), actor=world.lead_responder,
                           deadline_id=legal(other)["child_support_plan"].pk)
    done = case_deadline_done(access=access_for(world.lead_supervisor, case), actor=world.lead_supervisor,
                              deadline_id=plan.pk)
    assert done.stage == "closed" and done.closed_reason == f"done:{world.lead_supervisor.pk}"
    with pytest.raises(ValidationError):
        case_deadline_done(access=access_for(world.lead_responder, case), actor=world.lead_responder,
                           deadline_id=plan.pk)


# --- API -----------------------------------------------------------------------------------------


def test_the_deadline_api_lists_sets_and_closes(world, api):
    case = open_case(world, survivor=child(), risk_level="severe", consent=child_consent(world))
    handoff = refer(world, case, accept=False)
    client = api(world.lead_responder)
    listed = client.get(f"/api/cases/{case.pk}/deadlines/").json()
    # Soonest first: 12 hours from the opening, 12 hours from the (later) sending, 5 working days.
    assert [(d["kind"], d["rule"]["code"]) for d in listed] == [
        ("legal_limit", "child_serious_risk_intervention"),
        ("handoff_response", "handoff_response_urgent"),
        ("legal_limit", "child_support_plan"),
    ]
    assert {d["rule"]["source"] for d in listed if d["kind"] == "legal_limit"} == {"Decree 56/2017/ND-CP Art. 26",
                                                                                   "Decree 56/2017/ND-CP Art. 28"}
    due = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    response = client.post(f"/api/cases/{case.pk}/deadlines/", {"kind": "action_plan", "due_at": due},
                           format="json")
    assert response.status_code == 201 and response.json()["owner_user"]["id"] == world.lead_responder.pk
    for body, key in (({"kind": "action_plan"}, "due_at"), ({"kind": "x", "due_at": due}, "kind"),
                      ({"kind": "follow_up", "due_at": "2000-01-01T00:00:00Z"}, "due_at"),
                      ({"kind": "follow_up", "due_at": due, "note": "x"}, "note"), ([], "non_field_errors")):
        refused = client.post(f"/api/cases/{case.pk}/deadlines/", body, format="json")
        assert refused.status_code == 400 and key in refused.json(), refused.json()
    deadline_id = response.json()["id"]
    done = client.post(f"/api/cases/{case.pk}/deadlines/{deadline_id}/done/", {}, format="json")
    assert done.status_code == 200 and done.json()["stage"] == "closed"
    assert client.post(f"/api/cases/{case.pk}/deadlines/{deadline_id}/done/", {}, format="json").status_code == 409
    handoff_deadline = Deadline.objects.get(subject=f"handoff:{handoff.pk}")
    assert client.post(f"/api/cases/{case.pk}/deadlines/{handoff_deadline.pk}/done/", {},
                       format="json").status_code == 404
    # The hospital does not yet work on the case: it is not shown the case's deadlines.
    assert api(world.receiving_responder).get(f"/api/cases/{case.pk}/deadlines/").status_code == 404


def test_a_deadline_past_its_time_is_overdue_on_the_case_page_and_in_the_api_until_it_is_closed(world, api, web):
    case = open_case(world, survivor=child(), risk_level="severe", consent=child_consent(world))
    limits = legal(case)
    soon, later = limits["child_serious_risk_intervention"], limits["child_support_plan"]
    second = datetime.timedelta(seconds=1)
    assert deadline_is_overdue(soon, now=soon.due_at) and not deadline_is_overdue(soon, now=soon.due_at - second)
    with time_machine.travel(soon.due_at + datetime.timedelta(minutes=1), tick=False):
        listed = api(world.lead_responder).get(f"/api/cases/{case.pk}/deadlines/").json()
        assert {d["id"]: d["overdue"] for d in listed} == {soon.pk: True, later.pk: False}
        page = web(world.lead_responder).get(f"/cases/{case.pk}/").content.decode()
        assert f'<li class="overdue" data-testid="deadline-{soon.pk}">' in page
        assert f'<li data-testid="deadline-{later.pk}">' in page
        # Closed, it is no longer overdue, though its time has passed.
        soon.closed_at = timezone.now()
        assert not deadline_is_overdue(soon)
