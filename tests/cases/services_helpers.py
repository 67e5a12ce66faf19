"""Inputs and counters for the case-service tests. Payloads are synthetic (Faker-style vi_VN names
typed by hand), never real people."""

import datetime
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from agencies.models import Agency, Commune, Province
from audit.models import AuditEvent
from cases.models import (
    Action,
    Case,
    CaseAccessRow,
    CaseEvent,
    CaseNumberSequence,
    Consent,
    Incident,
    IncidentTechForm,
    Survivor,
)
from cases.selectors import case_get_for_user
from cases.serializers import CaseOpenInputSerializer, ConsentInputSerializer
from cases.services import case_open, consent_record
from config.api import input_validate

NO = {
    "penetration": False, "sexual_contact": False, "physical_assault": False, "forced_marriage": False,
    "denial_of_resources": False, "psychological_abuse": False,
}


def answers(**yes) -> dict:
    return {**NO, **yes}


def survivor_data(**overrides) -> dict:
    data = {
        "full_name": "Trần Thị Mai", "phone": "0912 345 678", "address": "12 phố Hàng Bạc, Hoàn Kiếm",
        "sex": "female", "birth_year": 1998, "disability": "none", "ethnicity": "Kinh",
    }
    data.update(overrides)
    return data


def incident_data(world, **overrides) -> dict:
    today = timezone.localdate()
    data = {
        "occurred_on": today - datetime.timedelta(days=2), "reported_on": today, "province": world.hanoi,
        "answers": answers(physical_assault=True), "tech_forms": ["harassment"],
        "perpetrator_relationship": "intimate_partner",
    }
    data.update(overrides)
    return data


def consent_data(world, **overrides) -> dict:
    data = {
        "receiving_agency": world.health, "granted_categories": ["medical"], "refused_categories": ["identity"],
        "purpose": "Khám và điều trị", "given_by": "survivor",
    }
    data.update(overrides)
    return data


def wire(value):
    """Test data as a client sends it: agencies and users by id, provinces and communes by code."""
    if isinstance(value, dict):
        return {key: wire(item) for key, item in value.items()}
    if isinstance(value, Province | Commune):
        return value.code
    if isinstance(value, Agency | User):
        return value.pk
    return value


def through_edge(serializer_class, data, **context) -> dict:
    """The values the edge hands to a service: `data` checked by the operation's input serializer."""
    return input_validate(serializer_class, wire(data), **context)


def case_open_through_edge(*, actor, agency, opened_at=None, **payload):
    """case_open as the API and the pages call it: `payload` (survivor, incident, consent, risk_level,
    statistics_consent) checked by CaseOpenInputSerializer first."""
    values = through_edge(CaseOpenInputSerializer, payload, default_reported_on=timezone.localdate(opened_at)
                          if isinstance(opened_at, datetime.datetime) else None)
    return case_open(actor=actor, agency=agency, opened_at=opened_at, **values)


def consent_record_through_edge(*, access, actor, data):
    """consent_record as the API and the consent page call it, through ConsentInputSerializer."""
    return consent_record(access=access, actor=actor, data=through_edge(ConsentInputSerializer, data))


def handoff_send_through_edge(*, access, actor, data):
    """handoff_send as the API and the send page call it, through HandoffSendApi's InputSerializer."""
    from handoffs.apis import HandoffSendApi
    from handoffs.services import handoff_send

    return handoff_send(access=access, actor=actor, data=through_edge(HandoffSendApi.InputSerializer, data))


def open_case(world, *, actor=None, consent=None, survivor=None, incident=None, risk_level="medium", **kwargs):
    return case_open_through_edge(
        actor=actor or world.lead_responder, agency=kwargs.pop("agency", world.police),
        survivor=survivor if survivor is not None else survivor_data(),
        incident=incident if incident is not None else incident_data(world),
        consent=consent, risk_level=risk_level, **kwargs,
    )


def access_for(user, case, require="view_case"):
    return case_get_for_user(user=user, case_id=case.pk, require=require)


COUNTED = (Case, Survivor, Incident, IncidentTechForm, Action, Consent, CaseEvent, CaseNumberSequence,
           CaseAccessRow, AuditEvent)


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


@contextmanager
def refused_writing_nothing(key: str):
    """The block is refused with a ValidationError naming `key`, and no row is written."""
    before = row_counts()
    with pytest.raises(ValidationError) as excinfo:
        yield
    assert key in excinfo.value.message_dict
    assert row_counts() == before


def audit_count(**filters) -> int:
    return AuditEvent.objects.filter(**filters).count()


def referral_data(world, **overrides) -> dict:
    data = {"kind": "referral", "to_agency": world.health, "services": ["medical_care"], "urgency": "urgent",
            "categories": ["medical"], "message": "Đề nghị khám và điều trị."}
    data.update(overrides)
    return data


def refer(world, case, *, accept=True, **overrides):
    """The lead responder refers the case (to the health agency, for medical data, by default) and
    the receiving responder accepts it: the only way an agency other than the lead gets the case."""
    from handoffs.services import handoff_accept

    handoff = handoff_send_through_edge(access=access_for(world.lead_responder, case, "manage_sharing"),
                           actor=world.lead_responder, data=referral_data(world, **overrides))
    if accept:
        handoff_accept(user=world.receiving_responder, handoff_id=handoff.pk)
    return handoff
