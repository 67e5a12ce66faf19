import datetime

import pytest
from django.utils import timezone

from agencies.models import Sector
from cases.models import Case, Consent, ConsentGiver, Survivor
from cases.sharing import case_permissions_sync
from handoffs.models import Handoff, HandoffKind, HandoffStatus, Urgency


def bare_case(world, *, number="HN-2026-000001", lead=None):
    """A case built straight from models: these tests are about access, not about opening cases."""
    survivor = Survivor.objects.create(pseudonym=f"NC-{number[-6:]}", full_name="Nguyễn Thị A", phone="0912345678")
    case = Case.objects.create(
        number=number, province=world.hanoi, survivor=survivor, lead_agency=lead or world.police,
        responsible=world.lead_responder,
    )
    case_permissions_sync(case=case)
    return case


def consent(world, case, *, agency=None, sector="", granted=(), refused=(), **extra):
    record = Consent.objects.create(
        case=case, receiving_agency=agency, receiving_sector=sector, granted_categories=list(granted),
        refused_categories=list(refused), purpose="referral", given_by=ConsentGiver.SURVIVOR,
        recorded_by=world.lead_responder, recorded_by_agency=world.police, **extra,
    )
    case_permissions_sync(case=case)
    return record


def handoff(world, case, *, to, categories, status=HandoffStatus.ACCEPTED, kind=HandoffKind.REFERRAL,
            override_reason=""):
    record = Handoff.objects.create(
        case=case, kind=kind, from_agency=case.lead_agency, to_agency=to, services=["medical_care"],
        urgency=Urgency.URGENT, categories=list(categories), emergency_override=bool(override_reason),
        override_reason=override_reason, status=status, sent_by=world.lead_responder,
        decline_reason="Không đủ chuyên môn" if status == HandoffStatus.DECLINED else "",
        due_at=timezone.now() + datetime.timedelta(hours=12),
    )
    if kind == HandoffKind.TRANSFER and status == HandoffStatus.ACCEPTED:
        case.lead_agency = to
        case.save(update_fields=["lead_agency"])
    case_permissions_sync(case=case)
    return record


def share(world, case, *, agency, granted=(), refused=(), **extra):
    """A consent to the agency and an accepted referral asking for the granted categories."""
    record = consent(world, case, agency=agency, granted=granted, refused=refused, **extra)
    handoff(world, case, to=agency, categories=granted)
    return record


@pytest.fixture
def case(world):
    return bare_case(world)


@pytest.fixture
def sector():
    return Sector
