"""What the oracle test (test_oracle.py) found after the access rules of issue 10 were built, one test
per finding: each failed before its fix."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from agencies.models import Sector
from cases.selectors import case_get_for_user
from config.exceptions import NotFound
from permissions.categories import DataCategory

from .conftest import consent, handoff

ALL = frozenset(DataCategory.values)


def test_a_consent_to_another_agency_does_not_refuse_anything_to_the_lead(world, case):
    # The lead's sector was compared with "" when no consent named a sector, and every consent to a
    # single agency has an empty sector: the lead took the refusals meant for the health agency.
    consent(world, case, agency=world.health, granted=[DataCategory.CONTACT], refused=[DataCategory.IDENTITY])
    assert case_get_for_user(user=world.lead_responder, case_id=case.pk).categories == ALL


def test_an_override_whose_every_category_is_refused_opens_nothing_until_the_refusal_ends(world, case):
    ends = timezone.now() + datetime.timedelta(hours=1)
    consent(world, case, sector=Sector.HEALTH, refused=[DataCategory.MEDICAL], expires_at=ends)
    handoff(world, case, to=world.health, categories=[DataCategory.MEDICAL], override_reason="Nguy hiểm tính mạng")
    with pytest.raises(NotFound):
        case_get_for_user(user=world.receiving_responder, case_id=case.pk)
    with time_machine.travel(ends, tick=False):
        access = case_get_for_user(user=world.receiving_responder, case_id=case.pk)
    assert access.categories == {DataCategory.MEDICAL}


def test_a_consent_that_grants_only_what_was_not_asked_for_does_not_open_the_case(world, case):
    consent(world, case, agency=world.health, granted=[DataCategory.MEDICAL])
    handoff(world, case, to=world.health, categories=[DataCategory.CONTACT])
    with pytest.raises(NotFound):
        case_get_for_user(user=world.receiving_responder, case_id=case.pk)
