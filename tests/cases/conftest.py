"""Fixtures for the case API and page tests: a case built through the real services, shared with
the health agency for medical data only, with one action in every category whose text names it.

Synthetic data only (hand-typed vi_VN-style values), never real people.
"""

import datetime
from dataclasses import dataclass

import pytest
from django.utils import timezone

from agencies.models import Membership
from cases.models import Case, Consent
from cases.selectors import case_get_for_user
from cases.services import action_log
from handoffs.models import Handoff, HandoffKind, Urgency
from handoffs.selectors import consented_categories
from handoffs.services import handoff_accept
from permissions.categories import GENERAL, DataCategory
from tests.cases.services_helpers import case_open_through_edge, consent_record_through_edge, handoff_send_through_edge
from tests.conftest import World, time_limits_ensure, world_in_bulk

ALL_CATEGORIES = (GENERAL, *DataCategory.values)

SURVIVOR = {
    "full_name": "Nguyễn Thị Hoa", "phone": "0987 654 321", "address": "25 ngõ Văn Chương, Đống Đa",
    "guardian_name": "Nguyễn Văn Bình", "guardian_phone": "0912 000 111",
    "sex": "female", "birth_year": 1995, "disability": "none", "ethnicity": "Kinh",
}
# Survivor values as they appear in a response or on a page, by the category that reveals them.
SURVIVOR_VALUES = {
    DataCategory.IDENTITY: {"full_name": SURVIVOR["full_name"]},
    DataCategory.CONTACT: {field: SURVIVOR[field] for field in ("phone", "address", "guardian_name", "guardian_phone")},
}
# One action per category; the text is unique so that a leak shows up in any response.
ACTIONS = {
    GENERAL: ("contact", "ACTION-TEXT-general: gọi điện hỏi thăm"),
    DataCategory.IDENTITY: ("note", "ACTION-TEXT-identity: tên khai sinh khác"),
    DataCategory.CONTACT: ("shelter_placement", "ACTION-TEXT-contact: nhà tạm lánh số 3"),
    DataCategory.MEDICAL: ("medical_care", "ACTION-TEXT-medical: khâu vết thương"),
    DataCategory.POLICE_LEGAL: ("statement_taken", "ACTION-TEXT-police_legal: lời khai lần 1"),
    DataCategory.EDUCATION: ("school_safety_plan", "ACTION-TEXT-education: kế hoạch an toàn"),
    DataCategory.PSYCHOSOCIAL: ("counselling", "ACTION-TEXT-psychosocial: tư vấn lần 1"),
}


def gbvims_answers(**yes) -> dict:
    no = {"penetration": False, "sexual_contact": False, "physical_assault": False, "forced_marriage": False,
          "denial_of_resources": False, "psychological_abuse": False}
    return {**no, **yes}


def incident_payload(**overrides) -> dict:
    """An incident as the API takes it (JSON: strings for dates, a province code)."""
    today = timezone.localdate()
    data = {
        "occurred_on": (today - datetime.timedelta(days=3)).isoformat(), "reported_on": today.isoformat(),
        "province": "01", "answers": gbvims_answers(physical_assault=True), "tech_forms": ["harassment"],
        "perpetrator_relationship": "intimate_partner",
    }
    data.update(overrides)
    return data


def open_payload(**overrides) -> dict:
    data = {"risk_level": "high", "survivor": dict(SURVIVOR), "incident": incident_payload()}
    data.update(overrides)
    return data


def medical_consent(world) -> dict:
    return {"receiving_agency": world.health.pk, "granted_categories": ["medical"],
            "refused_categories": ["identity"], "purpose": "Khám và điều trị", "given_by": "survivor"}


def case_build(world, *, actor=None, agency=None, risk_level="medium") -> Case:
    """A case opened through the service, with no consent."""
    incident = incident_payload()
    incident["province"] = (agency or world.police).province.code
    return case_open_through_edge(actor=actor or world.lead_responder, agency=agency or world.police,
                                  survivor=dict(SURVIVOR), incident=incident, consent=None, risk_level=risk_level)


def referral_accepted(world, case: Case, *, to, categories) -> Handoff:
    """An accepted referral of the case to `to`, through the handoff services: consent alone shares
    nothing, an accepted handoff puts the agency on the case. It asks for those of `categories` that
    the consent in force lets `to` have (handoff_send refuses the others, tests/cases/test_handoffs.py),
    so a caller passing more shows that acceptance never shares beyond consent. The lead responder
    sends; a responder of `to` accepts."""
    shareable, _refused = consented_categories(case=case, agency=to)
    lead = case_get_for_user(user=world.lead_responder, case_id=case.pk, require="manage_sharing")
    handoff = handoff_send_through_edge(access=lead, actor=world.lead_responder, data={
        "kind": HandoffKind.REFERRAL, "to_agency": to, "services": ["medical_care"], "urgency": Urgency.URGENT,
        "categories": [c for c in categories if c in shareable], "message": "Đề nghị hỗ trợ.",
    })
    receiver = Membership.objects.filter(agency=to, role="responder").select_related("user").first().user
    return handoff_accept(user=receiver, handoff_id=handoff.pk)


@dataclass
class SharedCase:
    case: Case
    consent: Consent


@pytest.fixture
def time_limits(db):
    """The legal time limits handoffs and case deadlines are counted by (tests.conftest.time_limits_ensure)."""
    time_limits_ensure()


@pytest.fixture
def shared_case(world, time_limits) -> SharedCase:
    """Led by the police; referred to the health agency, which holds a consent for medical data
    only (identity refused)."""
    return shared_case_build(world)


@dataclass
class SharedWorld:
    """A world and its shared case, as a module writes them once (its built_once; tests.conftest.module_built)."""

    world: World
    shared_case: SharedCase


def shared_world_build() -> SharedWorld:
    """A world in bulk and shared_case's rows, the legal time limits loaded."""
    time_limits_ensure()
    world = world_in_bulk()
    return SharedWorld(world=world, shared_case=shared_case_build(world))


def shared_case_build(world) -> SharedCase:
    """shared_case's rows (the legal time limits loaded)."""
    case = case_build(world)
    lead = case_get_for_user(user=world.lead_responder, case_id=case.pk)
    consent = consent_record_through_edge(access=lead, actor=world.lead_responder, data=medical_consent(world))
    referral_accepted(world, case, to=world.health, categories=["medical", "identity", "contact"])
    for category, (action_type, text) in ACTIONS.items():
        action_log(access=case_get_for_user(user=world.lead_responder, case_id=case.pk), actor=world.lead_responder,
                   data={"type": action_type, "category": category, "text": text})
    case.refresh_from_db()
    return SharedCase(case=case, consent=consent)
