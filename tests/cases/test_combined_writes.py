"""Logging an action writes its three rows in one statement on PostgreSQL (cases.combined_writes): the same
rows, sealed text and timeline line the ORM's three statements write, which still write them on SQLite and
while anything listens to the models' save signals."""

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.models import Action, Case, CaseEvent
from tests.cases.services_helpers import access_for, open_case

TEXT = "Khám sức khỏe <b>&</b> tư vấn\nlần 2"


def _log(world, case, text: str):
    access = access_for(world.lead_responder, case)
    with CaptureQueriesContext(connection) as queries:
        action = services.action_log(access=access, actor=world.lead_responder,
                                     data={"type": "medical_care", "category": "medical", "text": text})
    moved = Case.objects.get(pk=case.pk).updated_at == action.created_at
    return action, len(queries), moved


def _rows(action_id: int) -> tuple:
    action = Action.objects.get(pk=action_id)
    line = CaseEvent.objects.get(action_id=action_id)
    return (
        (action.case_id, action.type, action.category, action.occurred_at == action.created_at, action.text,
         action.actor_id, action.agency_id),
        (line.case_id, line.type, line.at == action.created_at, line.actor_id, line.agency_id, line.category,
         line.data),
    )


def _never(**kwargs):
    pass


def test_one_statement_writes_what_the_orm_writes(world):
    case = open_case(world)
    combined, combined_queries, combined_moved = _log(world, case, TEXT)
    post_save.connect(_never, sender=CaseEvent)
    try:
        through_orm, orm_queries, orm_moved = _log(world, case, TEXT)
    finally:
        post_save.disconnect(_never, sender=CaseEvent)
    assert combined.pk and combined._state.adding is False
    assert _rows(combined.pk) == _rows(through_orm.pk)
    assert _rows(combined.pk)[0][4] == TEXT and combined_moved and orm_moved
    # The text is sealed with the case's key in both (never plaintext in the table).
    stored = Action.objects.filter(pk__in=[combined.pk, through_orm.pk]).values_list("text", flat=True)
    assert all(str(value).startswith("ck1.") for value in stored)
    if connection.vendor == "postgresql":
        assert combined_queries == orm_queries - 2
    else:
        assert combined_queries == orm_queries


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one statement is PostgreSQL's")
def test_the_line_names_the_new_action_and_the_case_moves_up(world):
    case = open_case(world)
    before = Case.objects.get(pk=case.pk).updated_at
    action, _queries, moved = _log(world, case, "")
    line = CaseEvent.objects.get(action_id=action.pk)
    assert line.data == {"action_type": "medical_care"} and line.category == "medical"
    assert moved and action.created_at > before
