"""Issue 14 part 4: typed timeline events. One writer per event type (cases.events), the renderer
keyed by the same type (cases.timeline), every type rendered in Vietnamese and English, nothing else
in the project creating timeline rows; takedown outcomes and the case's deadlines on the timeline,
for the viewers who may read them."""

import ast
import datetime
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone, translation

from cases import events
from cases.events import WRITERS, DeadlineClosure
from cases.models import CaseEvent, CaseEventType, Consent
from cases.services import action_log, case_change_status
from cases.timeline import RENDERERS, case_timeline, event_sentence
from deadlines.services import case_deadline_done, case_deadline_set
from handoffs.models import Handoff
from notifications.models import Deadline
from notifications.services import deadline_create, deadline_sweep
from takedowns.models import TakedownRequest
from takedowns.services import takedown_outcome_record, takedown_request_record
from tests.cases.services_helpers import access_for, consent_data, open_case, refer, survivor_data

pytestmark = pytest.mark.usefixtures("time_limits")

BASE = Path(settings.BASE_DIR)
NOW = timezone.now


def _takedown(world, case, *, category="police_legal") -> TakedownRequest:
    return takedown_request_record(access=access_for(world.lead_responder, case), actor=world.lead_responder, data={
        "platform": "facebook", "content_reference": "https://facebook.example/p/1", "category": category,
        "text": "Đã gửi yêu cầu gỡ"})


def _outcome(world, case, takedown, user=None, **data) -> TakedownRequest:
    user = user or world.lead_responder
    return takedown_outcome_record(access=access_for(user, case), actor=user, takedown_id=takedown.pk, data=data)


def _follow_up(world, case, *, user=None, hours=48):
    user = user or world.lead_responder
    return case_deadline_set(access=access_for(user, case), actor=user, data={
        "kind": "follow_up", "due_at": timezone.now() + datetime.timedelta(hours=hours)})


# --- Every type: one writer, one renderer, both languages ------------------------------------------


def test_every_event_type_has_one_writer_and_one_renderer():
    assert set(WRITERS) == set(CaseEventType.values)
    assert set(RENDERERS) == set(CaseEventType.values)
    # The writers are public functions of the `events` module of cases or of the app whose rows the
    # event names (registered from its AppConfig.ready(): cases imports none of them).
    assert {writer.__module__ for writer in WRITERS.values()} == {"cases.events", "handoffs.events", "takedowns.events"}
    assert {type_ for type_, writer in WRITERS.items() if writer.__module__ != "cases.events"} == {
        CaseEventType.HANDOFF_SENT, CaseEventType.HANDOFF_ACCEPTED, CaseEventType.HANDOFF_DECLINED,
        CaseEventType.HANDOFF_WITHDRAWN, CaseEventType.HANDOFF_COMPLETED, CaseEventType.LEAD_TRANSFERRED,
        CaseEventType.TAKEDOWN_OUTCOME}


@pytest.fixture
def rows(world):
    """One row of everything an event refers to, made through the services."""
    case = open_case(world, consent=consent_data(world))
    handoff = refer(world, case)
    takedown = _takedown(world, case)
    follow_up = _follow_up(world, case)
    legal = deadline_create(kind=Deadline.Kind.LEGAL_LIMIT, subject=f"case:{case.pk}:child_support_plan",
                            owner_agency=world.police, rule="child_support_plan", case_id=case.pk,
                            case_number=case.number)
    return {
        "case": case, "handoff": Handoff.objects.select_related("from_agency", "to_agency").get(pk=handoff.pk),
        "consent": Consent.objects.select_related("receiving_agency").get(case=case),
        "incident": case.incidents.get(), "action": takedown.action, "takedown": takedown,
        "follow_up": follow_up, "legal": legal,
    }


def _samples(world, rows) -> list[tuple[str, dict]]:
    """(type, writer arguments): every type at least once, each shape of its sentence."""
    case, at, police = rows["case"], NOW(), world.police
    who = {"actor": world.lead_responder, "agency": police, "at": at}
    handoff = {"handoff": rows["handoff"], "actor": world.receiving_responder, "at": at}
    return [
        (CaseEventType.OPENED, {"case": case, **who}),
        (CaseEventType.UPDATED, {"case": case, **who, "changes": {
            "risk_level": ("medium", "high"), "statistics_consent": (True, False),
            "responsible": (None, events.person_ref(world.lead_responder))}}),
        (CaseEventType.SURVIVOR_UPDATED, {"case": case, **who, "category": "identity", "fields": ["full_name"]}),
        (CaseEventType.STATUS_CHANGED, {"case": case, **who, "old": "open", "new": "active"}),
        (CaseEventType.INCIDENT_RECORDED, {"incident": rows["incident"], **who, "tech_forms": ["online_harassment"]}),
        (CaseEventType.INCIDENT_RECORDED, {"incident": rows["incident"], **who, "tech_forms": []}),
        (CaseEventType.ACTION_LOGGED, {"action": rows["action"]}),
        (CaseEventType.CONSENT_RECORDED, {"consent": rows["consent"], **who}),
        (CaseEventType.CONSENT_WITHDRAWN, {"consent": rows["consent"], **who}),
        (CaseEventType.HANDOFF_SENT, {**handoff, "actor": world.lead_responder}),
        (CaseEventType.HANDOFF_ACCEPTED, handoff),
        (CaseEventType.HANDOFF_DECLINED, handoff),
        (CaseEventType.HANDOFF_WITHDRAWN, {**handoff, "actor": world.lead_responder}),
        (CaseEventType.HANDOFF_COMPLETED, handoff),
        (CaseEventType.LEAD_TRANSFERRED, handoff),
        (CaseEventType.TAKEDOWN_OUTCOME, {"takedown": rows["takedown"], **who, "previous": "removed"}),
        (CaseEventType.DEADLINE_STARTED, {"deadline": rows["follow_up"], **who}),
        (CaseEventType.DEADLINE_STARTED, {"deadline": rows["legal"], **who}),
        *[(CaseEventType.DEADLINE_CLOSED, {"deadline": rows["follow_up"], **who, "reason": reason,
                                           "action": rows["action"] if reason == DeadlineClosure.MET_BY_ACTION
                                           else None})
          for reason in DeadlineClosure],
        (CaseEventType.DEADLINE_OVERDUE, {"deadline": rows["legal"], "at": at}),
        (CaseEventType.DEADLINE_ESCALATED, {"deadline": rows["follow_up"], "at": at}),
        # The risk app's events (risk.services): the level as computed, and raised by judgement.
        *[(CaseEventType.RISK_ASSESSED, {"case_id": case.pk, "assessment_id": 1, **who, "level": level,
                                         "computed_level": "medium", "variant": "adult", "version": "2026.1"})
          for level in ("medium", "high")],
        *[(CaseEventType.RISK_REVIEW_DUE, {"deadline": rows["follow_up"], **who, "trigger": trigger})
          for trigger in ("new_incident", "separation", "breach")],
        # The case meeting's events (conferences.services).
        (CaseEventType.MEETING_CASE_ADDED, {"case_id": case.pk, "meeting_id": 1, **who, "scheduled_for": at}),
        (CaseEventType.MEETING_HELD, {"case_id": case.pk, "meeting_id": 1, **who, "held_on": at.date()}),
        (CaseEventType.MINUTES_SIGNED, {"case_id": case.pk, "meeting_id": 1, "version": 2, **who}),
    ]


def test_every_event_type_renders_in_vietnamese_and_english_from_its_writer(world, rows):
    samples = _samples(world, rows)
    assert {event_type for event_type, _kwargs in samples} == set(CaseEventType.values)
    rows["takedown"].outcome = "pending"  # and once with an outcome below
    for event_type, kwargs in [*samples, (CaseEventType.TAKEDOWN_OUTCOME, {
            "takedown": TakedownRequest(pk=rows["takedown"].pk, case_id=rows["case"].pk, action=rows["action"],
                                        platform="tiktok", outcome="refused"),
            "actor": None, "agency": world.police, "at": NOW(), "previous": "pending"})]:
        written = WRITERS[event_type](**kwargs)
        assert written.type == event_type
        # Read back as the timeline reads it: through JSON, from the database.
        event = CaseEvent.objects.get(pk=written.pk)
        sentences = {}
        for language in ("vi", "en"):
            with translation.override(language):
                # The renderer itself, strictly: a key the writer did not store raises here.
                sentences[language] = RENDERERS[event_type](event, world.police.name)
            assert sentences[language].strip() and "%(" not in sentences[language], (event_type, sentences)
        assert sentences["vi"] != sentences["en"], f"{event_type} has no Vietnamese sentence: {sentences['en']}"


def test_writers_refuse_what_their_type_does_not_hold(world, rows):
    case, at = rows["case"], NOW()
    with pytest.raises(ValueError):
        events.case_updated(case=case, actor=None, agency=None, at=at, changes={"close_reason": ("", "x")})
    with pytest.raises(ValueError):
        events.survivor_updated(case=case, actor=None, agency=world.police, at=at, category="identity",
                                fields=["Nguyễn Thị A"])
    with pytest.raises(ValueError):
        events.status_changed(case=case, actor=None, agency=world.police, at=at, old="open", new="gone")
    with pytest.raises(ValueError):
        events.deadline_closed(deadline=rows["follow_up"], reason="because", actor=None, agency=None, at=at)
    with pytest.raises(ValueError):
        events.deadline_closed(deadline=rows["follow_up"], reason=DeadlineClosure.MET_BY_ACTION, actor=None,
                               agency=None, at=at)


def test_an_old_row_that_no_renderer_reads_shows_a_plain_line_not_an_error(world, rows):
    event = CaseEvent(pk=0, case=rows["case"], type=CaseEventType.HANDOFF_SENT, data={"handoff_id": 1})
    with translation.override("en"):
        assert event_sentence(event, "Công an") == "Công an updated the case."


# --- Nothing else creates timeline rows ------------------------------------------------------------

CREATING = {"create", "bulk_create", "get_or_create", "update_or_create"}


def _direct_creations(source: str) -> list[int]:
    """Line numbers that create CaseEvent rows other than through cases.events: CaseEvent(...),
    CaseEvent.objects.create / bulk_create / get_or_create / update_or_create (any manager), and a
    case's related manager `.events.create(...)`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "CaseEvent":
            found.append(node.lineno)
        elif isinstance(func, ast.Attribute) and func.attr in CREATING:
            chain, value = [], func.value
            while isinstance(value, ast.Attribute):
                chain.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name):
                chain.append(value.id)
            if "CaseEvent" in chain or (chain and chain[0] == "events" and value is not func.value):
                found.append(node.lineno)
    return found


def test_the_check_finds_each_way_of_creating_a_row():
    source = """
CaseEvent.objects.create(case=case, type="opened")
CaseEvent.objects.bulk_create([CaseEvent(case=case)])
case.events.create(type="opened")
models.CaseEvent._default_manager.get_or_create(case=case)
CaseEvent.objects.filter(case=case).update(at=now)
events.case_opened(case=case, actor=None, agency=agency, at=now)
"""
    assert sorted(_direct_creations(source)) == [2, 3, 3, 4, 5]


def _project_sources() -> list[Path]:
    """Every Python file of the project (apps, config, tests, benchmarks), migrations aside."""
    found = []
    for root, dirs, files in os.walk(BASE):
        dirs[:] = [d for d in dirs if not d.startswith((".", "__")) and d not in ("migrations", "node_modules", "var")]
        found += [Path(root) / name for name in files if name.endswith(".py")]
    return sorted(found)


def test_nothing_outside_the_events_module_creates_timeline_rows():
    skip = {BASE / "cases" / "events.py", Path(__file__).resolve()}
    sources = [path for path in _project_sources() if path.resolve() not in skip]
    assert BASE / "cases" / "services.py" in sources and len(sources) > 100
    offenders = [f"{path.relative_to(BASE)}:{line}" for path in sources
                 for line in _direct_creations(path.read_text(encoding="utf-8"))]
    assert offenders == [], f"create timeline rows through cases.events: {offenders}"


# --- Takedown outcomes ---------------------------------------------------------------------------


def test_a_takedown_outcome_is_on_the_timeline_of_who_reads_the_request_only(world, shared_case, web, api):
    """The request is logged in the police/legal category: the lead reads its outcome; the health
    agency, which sees only medical data, learns that something it cannot see was updated, not that
    it is a takedown nor on which platform."""
    case = shared_case.case
    takedown = _takedown(world, case)
    _outcome(world, case, takedown, outcome="removed")
    _outcome(world, case, takedown, outcome="pending")
    event = CaseEvent.objects.filter(case=case, type="takedown_outcome").latest("id")
    assert event.category == "police_legal" and event.data == {
        "takedown_id": takedown.pk, "platform": "facebook", "outcome": "pending", "previous": "removed"}
    police = world.police.name
    with translation.override("en"):
        lead = case_timeline(access=access_for(world.lead_responder, case))
        other = case_timeline(access=access_for(world.receiving_responder, case))
    assert [e.sentence for e in lead[:2]] == [
        f"{police} set the takedown request to Facebook back to pending.",
        f"{police} recorded the outcome of the takedown request to Facebook: Removed.",
    ]
    assert [(e.sentence, e.type, e.hidden) for e in other[:2]] == [
        (f"{police} updated details you cannot see.", "updated", True)] * 2

    page = web(world.receiving_responder).get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    assert "Facebook" not in page.content.decode()
    lead_page = web(world.lead_responder).get(f"/cases/{case.pk}/").content.decode()
    sentences = []
    for language in ("vi", "en"):
        with translation.override(language):
            sentences.append(case_timeline(access=access_for(world.lead_responder, case))[0].sentence)
    assert any(sentence in lead_page for sentence in sentences), sentences
    body = api(world.receiving_responder).get(f"/api/cases/{case.pk}/timeline/").json()
    entries = body if isinstance(body, list) else body["results"]
    assert not any(e["type"] == "takedown_outcome" or "Facebook" in e["sentence"] for e in entries)


def test_a_takedown_in_the_general_category_tells_its_outcome_to_every_agency_on_the_case(world, shared_case):
    case = shared_case.case
    takedown = _takedown(world, case, category="general")
    _outcome(world, case, takedown, outcome="refused")
    with translation.override("en"):
        first = case_timeline(access=access_for(world.receiving_responder, case))[0]
    assert first.sentence == (f"{world.police.name} recorded the outcome of the takedown request to Facebook: "
                              "Refused by the platform.")
    assert not first.hidden


# --- Deadlines -----------------------------------------------------------------------------------


def _deadline_lines(case, user) -> list[str]:
    with translation.override("en"):
        return [e.sentence for e in case_timeline(access=access_for(user, case)) if e.type.startswith("deadline")]


def test_a_childs_case_tells_its_legal_deadlines_from_start_to_close(world):
    case = open_case(world, survivor=survivor_data(birth_year=timezone.localdate().year - 10), risk_level="high")
    lead = access_for(world.lead_responder, case)
    shelter = action_log(access=lead, actor=world.lead_responder,
                         data={"type": "shelter_placement", "category": "general"})
    case_change_status(access=access_for(world.lead_responder, case), actor=world.lead_responder, status="closed",
                       close_reason="Đã hỗ trợ xong")
    lines = _deadline_lines(case, world.lead_responder)
    assert len(lines) == 4
    assert lines[0].startswith("The deadline Child support and intervention plan (due ")
    assert lines[0].endswith(") ended when the case was closed.")
    assert lines[1].startswith(f"{world.police.name} met the deadline Child at serious risk: emergency "
                               "intervention (due ")
    assert sorted(line.split(" (")[0] for line in lines[2:]) == [
        "The legal deadline started: Child at serious risk: emergency intervention",
        "The legal deadline started: Child support and intervention plan"]
    met = CaseEvent.objects.get(case=case, type="deadline_closed", data__reason="action")
    assert (met.data["action_id"], met.action_id, met.at) == (shelter.pk, None, shelter.created_at)
    types = list(CaseEvent.objects.filter(case=case, type__startswith="deadline").values_list("type", "data__reason"))
    assert sorted(types, key=str) == sorted([("deadline_started", None), ("deadline_started", None),
                                             ("deadline_closed", "action"), ("deadline_closed", "case_closed")],
                                            key=str)


def test_a_follow_up_set_met_and_marked_done_are_on_the_timeline_of_every_agency_on_the_case(world, shared_case):
    case = shared_case.case
    first = _follow_up(world, case, hours=24)
    second = _follow_up(world, case, user=world.receiving_responder, hours=48)
    action_log(access=access_for(world.lead_responder, case), actor=world.lead_responder,
               data={"type": "follow_up", "category": "general"})
    case_deadline_done(access=access_for(world.receiving_responder, case), actor=world.receiving_responder,
                       deadline_id=second.pk)
    police, health = world.police.name, world.health.name
    for viewer in (world.lead_responder, world.receiving_responder):
        lines = _deadline_lines(case, viewer)
        assert [line.split(" (")[0] for line in lines] == [
            f"{health} marked the deadline Follow-up", f"{police} met the deadline Follow-up",
            f"{health} set a deadline: Follow-up", f"{police} set a deadline: Follow-up"]
    assert f"(due {timezone.localtime(first.due_at):%-d %b %Y}, " in _deadline_lines(case, world.lead_responder)[-1]


def test_the_sweep_tells_an_overdue_and_an_escalated_case_deadline_not_a_reminder(world, shared_case):
    case = shared_case.case
    deadline = _follow_up(world, case, hours=24)
    assert deadline_sweep(now=deadline.escalate_at + datetime.timedelta(minutes=1)) >= 3
    police = world.police.name
    lines = _deadline_lines(case, world.receiving_responder)
    assert [line.split(" (")[0] for line in lines[:2]] == [
        "The overdue deadline Follow-up", "The deadline Follow-up"]
    assert lines[0].endswith(f"of {police} was escalated to the supervisors.")
    assert lines[1].endswith(f"of {police} has passed.")
    overdue, escalated = (CaseEvent.objects.get(case=case, type=t) for t in ("deadline_overdue", "deadline_escalated"))
    assert (overdue.at, escalated.at) == (deadline.due_at, deadline.escalate_at)
    assert overdue.actor_id is None and overdue.agency_id is None
    # Once only, however often the sweep runs.
    deadline_sweep(now=deadline.escalate_at + datetime.timedelta(days=1))
    assert CaseEvent.objects.filter(case=case, type__in=["deadline_overdue", "deadline_escalated"]).count() == 2


def test_a_handoffs_response_deadline_stays_off_the_case_timeline(world, shared_case):
    """It is the handoff's story (sent, answered), and the case page shows it only to the two agencies."""
    handoff = Handoff.objects.filter(case=shared_case.case).get()
    deadline = Deadline.objects.get(subject=f"handoff:{handoff.pk}")
    Deadline.objects.filter(pk=deadline.pk).update(closed_at=None, stage="pending", next_fire_at=deadline.remind_at)
    deadline_sweep(now=deadline.escalate_at + datetime.timedelta(minutes=1))
    assert not CaseEvent.objects.filter(type__startswith="deadline").exists()


def test_deadline_events_carry_no_typed_text(world, shared_case):
    case = shared_case.case
    _follow_up(world, case)
    data = CaseEvent.objects.get(case=case, type="deadline_started").data
    assert set(data) == {"deadline_id", "kind", "rule", "due_at", "owner_agency"}
