"""The unfiltered register's figures read from supervision.models.AgencyHandoffFigures (kept by database
triggers, with each handoff's first action in HandoffFirstAction) and the agency's waiting handoffs give
exactly what the live aggregate over every handoff of the agency gives (`counted` below: the query the
filtered register still runs), for every agency: on a world changed step by step through the services (send,
view, accept, decline, withdraw, complete, actions logged), behind their back (queryset updates of times,
statuses and agencies, actions moved, backdated and deleted, rows copied and deleted, a case deleted), a
case anonymised, and time passing (handoffs falling due, overdue)."""

import datetime

import pytest
import time_machine
from django.db import connection, models
from django.db.models import F, Value
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agencies.models import Agency
from cases.erasure import anonymise_case
from cases.models import Action, Case
from handoffs.models import Handoff, HandoffStatus
from handoffs.services import handoff_accept, handoff_complete, handoff_withdraw
from supervision.models import AgencyHandoffFigures, HandoffFirstAction
from supervision.selectors import (
    RegisterFilters,
    _summary_figures,
    _summary_queryset,
    handoff_register,
    handoff_register_summary,
)
from tests.supervision.conftest import (
    DAY,
    HOUR,
    OVERRIDE,
    REGISTER_ONCE,
    act,
    copied_then_deleted,
    declined_then_sent_again,
    send,
)

pytestmark = REGISTER_ONCE
POSTGRESQL = connection.vendor == "postgresql"


def counted(*, agency: Agency, now: datetime.datetime) -> dict:
    """The figures as the live aggregate over every handoff of the agency gives them."""
    return _summary_queryset(agency=agency, filters=RegisterFilters(), now=now).aggregate(**_summary_figures(now=now))


def assert_same(now: datetime.datetime | None = None) -> int:
    """Every agency's unfiltered figures equal the live aggregate's; on PostgreSQL the stored first actions
    are those of the register. Returns how many handoffs were counted."""
    now = now or timezone.now()
    total = 0
    for agency in Agency.objects.order_by("pk"):
        expected = counted(agency=agency, now=now)
        assert handoff_register_summary(agency=agency, now=now) == expected, agency.name
        total += expected["total"]
    if POSTGRESQL:
        firsts = {h.pk: h.first_action_at for agency in Agency.objects.all()
                  for h in handoff_register(agency=agency, now=now) if h.first_action_at}
        assert dict(HandoffFirstAction.objects.values_list("handoff_id", "first_action_at")) == firsts
        kept = set(AgencyHandoffFigures.objects.filter(total__gt=0).values_list("agency_id", flat=True))
        assert kept == set(Handoff.objects.values_list("from_agency_id", flat=True)) | set(
            Handoff.objects.values_list("to_agency_id", flat=True))
    return total


def test_the_kept_figures_give_what_the_aggregate_gave_as_the_world_changes(world, register, social):
    r = register
    social_agency, social_responder, _supervisor = social
    assert assert_same() == 10  # five handoffs, each counted by its two agencies

    # Through the services: sent, viewed, declined, sent again, accepted, acted on, withdrawn, completed.
    case, first, second = declined_then_sent_again(world, assert_same)
    handoff_accept(user=world.receiving_responder, handoff_id=second.pk)
    assert_same()
    later = act(world.receiving_responder, case, at=timezone.now() + HOUR)
    assert_same()
    # An action backdated before the first one (still after the acceptance): the longest wait shrinks.
    Handoff.objects.filter(pk=second.pk).update(sent_at=r.t0 - 40 * DAY, responded_at=r.t0 - 39 * DAY)
    assert_same()
    earlier = act(world.receiving_responder, case, at=r.t0 - 38 * DAY)
    assert_same()
    Action.objects.filter(pk=earlier.pk).update(occurred_at=r.t0 - 35 * DAY)
    assert_same()
    Action.objects.filter(pk=earlier.pk).delete()
    assert_same()
    Action.objects.filter(pk=later.pk).update(agency=world.police)
    assert_same()
    third = send(world, case, to_agency=social_agency, categories=["contact"], **OVERRIDE)
    handoff_withdraw(user=world.lead_responder, handoff_id=third.pk, reason="Gửi nhầm đơn vị.")
    assert_same()
    handoff_complete(user=world.receiving_responder, handoff_id=second.pk, outcome="Đã khám và điều trị.")
    fourth = send(world, case, to_agency=social_agency, categories=["contact"], **OVERRIDE)
    handoff_accept(user=social_responder, handoff_id=fourth.pk)
    act(social_responder, case, at=timezone.now() + 2 * HOUR)
    assert_same()

    # Behind the services' back: the longest durations shrink and go, statuses, agencies and cases move.
    Handoff.objects.filter(pk=r.h2.pk).update(viewed_at=r.h2.sent_at + HOUR, responded_at=r.h2.sent_at + 2 * HOUR)
    assert_same()
    Handoff.objects.filter(pk=r.h1.pk).update(completed_at=None, status=HandoffStatus.ACCEPTED)
    assert_same()
    Handoff.objects.filter(pk=r.h5.pk).update(status=HandoffStatus.SENT, withdrawn_at=None)
    assert_same()
    Handoff.objects.filter(pk=r.h4.pk).update(from_agency=social_agency, to_agency=world.health)
    assert_same()
    Handoff.objects.filter(pk=second.pk).update(case=r.h1.case)
    assert_same()
    Handoff.objects.filter(pk__in=[r.h1.pk, r.h2.pk, fourth.pk]).update(sent_at=r.t0 - DAY)
    assert_same()
    # One statement over many handoffs of several agencies: statuses change, a handoff's agencies swap, a
    # view goes (the longest wait may shrink), a row matched is left as it was (the trigger sees it twice).
    def one_of(column: str, changes: dict) -> models.Case:
        return models.Case(*(models.When(pk=pk, then=value) for pk, value in changes.items()), default=F(column))

    Handoff.objects.filter(pk__in=[r.h1.pk, r.h2.pk, r.h4.pk, r.h5.pk, first.pk, fourth.pk]).update(
        status=one_of("status", {r.h1.pk: Value(HandoffStatus.COMPLETED), fourth.pk: Value(HandoffStatus.WITHDRAWN)}),
        completed_at=one_of("completed_at", {r.h1.pk: Value(r.t0)}),
        withdrawn_at=one_of("withdrawn_at", {fourth.pk: Value(r.t0 + HOUR)}),
        from_agency=one_of("from_agency", {r.h4.pk: F("to_agency")}),
        to_agency=one_of("to_agency", {r.h4.pk: F("from_agency")}),
        viewed_at=one_of("viewed_at", {r.h2.pk: Value(None), r.h5.pk: F("sent_at") + HOUR}))
    assert_same()
    copied_then_deleted(first, third, assert_same)

    # Time passes: what was open falls due and is overdue; then a case is anonymised and another deleted.
    with time_machine.travel(timezone.now() + 3 * DAY, tick=False):
        assert_same()
        anonymise_case(r.h2.case, actor=None, reason="retention")
        assert_same()
    assert_same(now=timezone.now() + 30 * DAY)
    Case.objects.filter(pk=r.h1.case_id).delete()
    assert_same()
    Handoff.objects.all().delete()
    assert assert_same() == 0


@pytest.mark.skipif(not POSTGRESQL, reason="SQLite's summary is the live aggregate")
def test_the_unfiltered_figures_are_one_query_of_the_agencys_row_and_waiting_handoffs(world, register):
    with CaptureQueriesContext(connection) as queries:
        figures = handoff_register_summary(agency=world.police)
    assert len(queries) == 1
    sql = queries[0]["sql"]
    assert "supervision_agencyhandofffigures" in sql and "cases_action" not in sql
    assert figures == counted(agency=world.police, now=timezone.now()) | {"deadline_open": figures["deadline_open"]}
    assert (figures["total"], figures["deadline_met"], figures["deadline_missed"], figures["overdue"]) == (5, 2, 2, 1)
