"""config.compiled.CompiledModels: model instances from SQL compiled once must be what the ORM's
queryset gives, field by field, with their select_related rows, annotations and the fields' own
conversions (sealed text opened with the case's key, JSON decoded), for each call's values; the case
page's panels read through it (tests/cases/test_api_queries.py counts their queries)."""

import pytest
from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Coalesce

from cases.models import Action, Case, CaseEvent
from cases.selectors import case_get_for_user
from cases.services import action_log
from config.compiled import CompiledModels, CompiledModelsByShape, CompiledValues, CompiledValuesByShape
from encryption import crypto
from encryption.fields import EncryptedTextField
from tests.cases.conftest import case_build

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def _actions(case_id: int):
    return (Action.objects.filter(case_id=case_id).select_related("actor", "agency", "case__data_key")
            .annotate(doubled=F("id") * 2).order_by("-id"))


def test_instances_are_the_orms_with_their_related_rows_annotations_and_opened_text(world):
    cases = [case_build(world) for _ in range(2)]
    for number, case in enumerate(cases):
        access = case_get_for_user(user=world.lead_responder, case_id=case.pk)
        for day in range(2 + number):
            action_log(access=access, actor=world.lead_responder, data={"type": "contact", "text": f"Ngày {day}"})
    compiled = CompiledModels(_actions, case_id="int")
    for case in cases:
        read, expected = compiled.objects(case_id=case.pk, model=Action), list(_actions(case.pk))
        assert [_fields(a) for a in read] == [_fields(a) for a in expected]
        assert [(a.text, a.doubled, a.actor.username, a.agency.name, a.case.number, a.case.data_key.kid)
                for a in read] == [(a.text, a.doubled, a.actor.username, a.agency.name, a.case.number,
                                    a.case.data_key.kid) for a in expected]
        assert read[0].text.startswith("Ngày") and read[0]._state.db == "default" and not read[0]._state.adding
    assert compiled.objects(case_id=max(c.pk for c in cases) + 1000, model=Action) == []


def test_json_is_decoded_and_shapes_compile_apart(world):
    case = case_build(world)
    by_type = CompiledModelsByShape(
        lambda types, case_id: CaseEvent.objects.filter(case_id=case_id, type__in=types).order_by("id"), case_id="int")
    opened = by_type.objects(("opened",), case_id=case.pk, model=CaseEvent)
    assert [e.data for e in opened] == [e.data for e in CaseEvent.objects.filter(case_id=case.pk, type="opened")]
    assert isinstance(opened[0].data, dict) and opened[0].data["number"] == case.number
    both = by_type.objects(("opened", "incident_recorded"), case_id=case.pk, model=CaseEvent)
    assert len(both) == CaseEvent.objects.filter(case_id=case.pk, type__in=("opened", "incident_recorded")).count() > 1


def _event_values(case_id: int, *names: str):
    return (CaseEvent.objects.filter(case_id=case_id).annotate(text=Coalesce(F("action__text"), Value(""),
                                                                            output_field=EncryptedTextField()))
            .order_by("-id").values_list(*names))


def test_values_are_the_orms_with_json_decoded_and_sealed_text(world):
    """CompiledValues: the tuples of a values_list as the ORM gives them, the fields' conversions applied
    (JSON decoded, an action's text sealed with the case's key until opened), for each call's values."""
    cases = [case_build(world) for _ in range(2)]
    for number, case in enumerate(cases):
        access = case_get_for_user(user=world.lead_responder, case_id=case.pk)
        for day in range(1 + number):
            action_log(access=access, actor=world.lead_responder, data={"type": "contact", "text": f"Ngày {day}"})
    names = ("id", "type", "data", "agency__name", "actor__username", "text")
    compiled = CompiledValues(lambda case_id: _event_values(case_id, *names), case_id="int")
    by_shape = CompiledValuesByShape(lambda names, case_id: _event_values(case_id, *names), case_id="int")
    for case in cases:
        read, expected = compiled.values(case_id=case.pk, model=CaseEvent), list(_event_values(case.pk, *names))
        assert read == [tuple(row) for row in expected] != []
        assert by_shape.values(names, case_id=case.pk, model=CaseEvent) == read
        assert all(isinstance(row[2], dict) for row in read)
        texts = [crypto.unseal(row[5]) if isinstance(row[5], crypto.Sealed) else row[5] for row in read]
        assert [t for t in texts if t] == [f"Ngày {day}" for day in reversed(range(1 + cases.index(case)))]
    assert compiled.values(case_id=max(c.pk for c in cases) + 1000, model=CaseEvent) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the compiled path is PostgreSQL's")
def test_values_not_in_the_order_selected_are_refused(world):
    """values_list puts a field named after an annotation before it in the SQL: its rows would not be in
    the order asked, so such a query is refused rather than read with the wrong conversions."""
    case = case_build(world)
    compiled = CompiledValues(lambda case_id: _event_values(case_id, "text", "id", "data"), case_id="int")
    with pytest.raises(ValueError, match="order"):
        compiled.values(case_id=case.pk, model=CaseEvent)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the compiled path is PostgreSQL's")
def test_a_prefetching_queryset_is_refused(world):
    case = case_build(world)
    compiled = CompiledModels(lambda case_id: Case.objects.filter(pk=case_id).prefetch_related("incidents"),
                              case_id="int")
    with pytest.raises(ValueError, match="prefetch"):
        compiled.objects(case_id=case.pk, model=Case)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the compiled path is PostgreSQL's")
def test_a_compiled_query_inside_another_statement(world):
    """objects_and_columns: the instances of a query put inside other SQL, with that SQL's own columns
    after theirs; sql_with: a value taken from the outer statement instead of a parameter."""
    cases = [case_build(world) for _ in range(3)]
    access = case_get_for_user(user=world.lead_responder, case_id=cases[1].pk)
    action_log(access=access, actor=world.lead_responder, data={"type": "contact", "text": "Gọi lại"})
    compiled = CompiledModels(_actions, case_id="int")
    # The wrap's own parameters follow the query's (CompiledQuery.rows).
    found = compiled.objects_and_columns(wrap="SELECT q.*, x.n, x.m FROM (%s) q, (SELECT %%s::int * 3 AS n, 5 AS m) x",
                                         extra=(7,), model=Action, case_id=cases[1].pk)
    expected = list(_actions(cases[1].pk))
    assert [_fields(action) for action, _columns in found] == [_fields(action) for action in expected]
    assert [columns for _action, columns in found] == [(21, 5) for _action in expected] != []
    assert [action.text for action, _columns in found] == ["Gọi lại"]
    # The case id taken from the outer statement: the same rows, no parameter of its own.
    sql, slots = compiled.sql_with("default", case_id="o.id")
    assert all(name != "case_id" for name, _constant in slots)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT inner_rows.* FROM (SELECT %s::bigint AS id) o, LATERAL ({sql}) inner_rows",  # noqa: S608
                       [cases[1].pk, *compiled.params_of(slots)])
        assert [row[0] for row in cursor.fetchall()] == [action.pk for action in expected]
    with pytest.raises(ValueError):
        compiled.sql_with("default", unknown="o.id")
