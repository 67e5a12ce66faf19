"""The trigger-kept tables (supervision.CaseActivity, supervision.CaseHandoffs) stay exact when two
transactions write one case at once on PostgreSQL (READ COMMITTED): each side's statements run on a
snapshot without the other's uncommitted rows, so without a lock both meet on, a row written by one
is missed by the other (migration 0005: a case's refresh locks the case row FOR UPDATE, a new action
FOR KEY SHARE). Two connections, the second in a thread; the later one waits for the earlier's commit."""

import datetime
import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from cases.models import Action
from handoffs.models import Handoff, HandoffStatus
from supervision.models import CaseActivity, CaseHandoffs
from tests.cases.services_helpers import consent_data, open_case
from tests.supervision.conftest import send
from tests.support.sql import other_waits_or_ends

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="row locks are PostgreSQL's; SQLite serializes writes")

HOUR = datetime.timedelta(hours=1)


def _copy_sql(model, **values) -> tuple[str, list]:
    """INSERT of a copy of one row of `model` (its id the last parameter) with `values` in place."""
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    chosen = [("%s" if c in values else f'"{c}"') for c in columns]
    table = model._meta.db_table
    names = ", ".join(f'"{c}"' for c in columns)
    # The table's and columns' names are the model's, the values parameters.
    sql = f'INSERT INTO "{table}" ({names}) SELECT {", ".join(chosen)} FROM "{table}" WHERE id = %s'  # noqa: S608
    return sql, [values[c] for c in columns if c in values]


def _in_thread(work) -> threading.Thread:
    def run():
        try:
            work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _second_waits_for_first(first_sql: list[tuple[str, list]], second_sql: list[tuple[str, list]]) -> None:
    """`first_sql` in a transaction left open on this thread's connection; `second_sql` in a transaction
    on another thread's, which must wait for the first's lock; the first committed once it does, then the
    second."""
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params in first_sql:
            cursor.execute(sql, params)

        def second():
            with transaction.atomic(), connections["default"].cursor() as other:
                for sql, params in second_sql:
                    other.execute(sql, params)

        thread = _in_thread(second)
        assert other_waits_or_ends(thread), "the second transaction did not wait for the first's lock"
    thread.join(30)
    assert not thread.is_alive()


def _accept(handoff: Handoff, at) -> list[tuple[str, list]]:
    """An acceptance as the handoff service writes it: the case row locked, then the handoff's status."""
    return [("SELECT 1 FROM cases_case WHERE id = %s FOR UPDATE", [handoff.case_id]),
            ("UPDATE cases_handoff SET status = %s, responded_at = %s WHERE id = %s",
             [HandoffStatus.ACCEPTED, at, handoff.pk])]


@pytest.fixture
def waiting(transactional_db, world):
    """A handoff of the police's case to health, sent and not yet answered, and one action of health's
    (on another case) to copy."""
    case = open_case(world, consent=consent_data(world, granted_categories=["medical"]))
    handoff = send(world, case)
    other = open_case(world)
    model = Action.objects.create(case=other, actor=world.receiving_responder, agency=world.health, type="contact",
                                  occurred_at=timezone.now())
    return handoff, model


@pytest.mark.parametrize("accepted_first", [True, False], ids=["accept-then-action", "action-then-accept"])
def test_an_action_concurrent_with_an_acceptance_is_on_the_agencys_clock(world, waiting, accepted_first):
    handoff, model = waiting
    now = timezone.now().replace(microsecond=0)
    acted_at = now - HOUR
    accept = _accept(handoff, now - 2 * HOUR)
    sql, params = _copy_sql(Action, case_id=handoff.case_id, occurred_at=acted_at)
    action = [(sql, [*params, model.pk])]
    if accepted_first:
        _second_waits_for_first(accept, action)
    else:
        _second_waits_for_first(action, accept)
    row = CaseActivity.objects.get(case_id=handoff.case_id, agency=world.health)
    assert row.last_action_at == acted_at
    assert row.activity_at == acted_at


def test_two_handoffs_of_one_case_written_at_once_are_both_counted(world, waiting):
    handoff, _model = waiting
    sql, params = _copy_sql(Handoff, status=HandoffStatus.DECLINED, decline_reason="-", responded_at=timezone.now())
    one = [(sql, [*params, handoff.pk])]
    _second_waits_for_first(one, one)
    assert Handoff.objects.filter(case_id=handoff.case_id).count() == 3
    assert dict(CaseHandoffs.objects.filter(case_id=handoff.case_id).values_list("agency_id", "handoffs")) == {
        world.police.pk: 3, world.health.pk: 3}
