"""The readable timeline: one sentence per event, and nothing a viewer's categories do not allow."""

import pytest
from django.utils import translation

from cases.models import Consent
from cases.services import (
    action_log,
    case_change_status,
    case_update,
    consent_withdraw,
    survivor_update,
)
from cases.timeline import case_timeline
from tests.cases.services_helpers import access_for, consent_data, consent_record_through_edge, open_case, refer


@pytest.fixture
def story(world):
    """A case with one event of every type, told by the police and the hospital."""
    case = open_case(world, consent=consent_data(world))
    refer(world, case)
    lead = access_for(world.lead_responder, case)
    action_log(access=lead, actor=world.lead_responder,
               data={"type": "statement_taken", "text": "Lời khai về người chồng"})
    action_log(access=access_for(world.receiving_responder, case), actor=world.receiving_responder,
               data={"type": "medical_care", "text": "Gãy xương cẳng tay trái"})
    survivor_update(access=lead, actor=world.lead_responder, data={"full_name": "Trần Thị Mai Anh"})
    case_update(access=lead, actor=world.lead_responder, data={"risk_level": "high"})
    case_change_status(access=lead, actor=world.lead_responder, status="active")
    consent_record_through_edge(access=lead, actor=world.lead_responder, data=consent_data(
        world, receiving_agency=None, receiving_sector="shelter", granted_categories=["contact"],
        refused_categories=[]))
    consent_withdraw(access=lead, actor=world.lead_responder, consent_id=Consent.objects.filter(
        case=case, receiving_sector="shelter").get().pk, reason="")
    return case


def _sentences(entries):
    return [entry.sentence for entry in entries]


def test_the_lead_reads_every_event(world, story, django_assert_num_queries):
    access = access_for(world.lead_responder, story)
    with translation.override("en"), django_assert_num_queries(1):
        entries = case_timeline(access=access)
    police, hospital = world.police.name, world.health.name
    assert _sentences(entries) == [
        f"{police} recorded that consent to share Contact and address with agencies of the Shelter sector was "
        "withdrawn.",
        f"{police} recorded the survivor's consent to share Contact and address with agencies of the Shelter sector.",
        f"{police} changed the status from Open to Active.",
        f"{police} changed the risk level from Medium to High.",
        f"{police} updated the survivor's full name.",
        f"{hospital} logged an action: Medical care.",
        f"{police} logged an action: Statement taken.",
        f"{hospital} accepted the handoff.",
        f"{police} referred the case to {hospital} (Urgent): Medical care.",
        f"{police} recorded the survivor's consent to share Medical with {hospital}. Refused: Identity.",
        f"{police} recorded an incident: Physical assault; technology-facilitated: Online harassment and threats.",
        f"{police} opened the case {story.number}.",
    ]
    assert not any(entry.hidden for entry in entries)
    details = {entry.sentence: entry.details for entry in entries if entry.details}
    assert set(details.values()) == {"Lời khai về người chồng", "Gãy xương cẳng tay trái"}
    assert entries[5].actor == "receiving_responder" and entries[5].category == "medical"


def test_a_viewer_without_a_category_learns_that_something_happened_not_what(world, story):
    with translation.override("en"):
        entries = case_timeline(access=access_for(world.receiving_responder, story))
    police = world.police.name
    hidden = [entry for entry in entries if entry.hidden]
    assert [entry.sentence for entry in hidden] == [
        f"{police} updated details you cannot see.",
        f"{police} logged a police or legal note.",
    ]
    assert all(entry.details == "" and entry.action_id is None for entry in hidden)
    text = " ".join(_sentences(entries)) + " ".join(entry.details for entry in entries)
    assert "Lời khai" not in text and "full name" not in text
    assert "Gãy xương cẳng tay trái" in text


def test_sentences_follow_the_language(world, story):
    with translation.override("vi"):
        vietnamese = case_timeline(access=access_for(world.lead_responder, story))
    with translation.override("en"):
        english = case_timeline(access=access_for(world.lead_responder, story))
    assert vietnamese[2].sentence != english[2].sentence


def test_an_override_and_a_refusal_only_consent_read_as_such(world):
    case = open_case(world)
    lead = access_for(world.lead_responder, case)
    consent_record_through_edge(access=lead, actor=world.lead_responder, data=consent_data(
        world, granted_categories=["medical"], refused_categories=[], emergency_override=True,
        override_reason="Nguy hiểm đến tính mạng"))
    consent_record_through_edge(access=lead, actor=world.lead_responder, data=consent_data(
        world, receiving_agency=world.school, granted_categories=[], refused_categories=["education"]))
    with translation.override("en"):
        first, second = _sentences(case_timeline(access=lead))[:2]
    assert first == (f"{world.police.name} recorded the survivor's decision about sharing with {world.school.name}. "
                     "Refused: Education.")
    assert second == (f"{world.police.name} shared Medical with {world.health.name} without consent (emergency "
                      "override, for supervisor review).")
