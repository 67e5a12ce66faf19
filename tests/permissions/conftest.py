import pytest

from agencies.models import Sector
from cases.models import Case, Consent, ConsentGiver, Survivor
from cases.sharing import case_permissions_sync


def bare_case(world, *, number="HN-2026-000001", lead=None):
    """A case built straight from models: these tests are about access, not about opening cases."""
    survivor = Survivor.objects.create(pseudonym=f"NC-{number[-6:]}", full_name="Nguyễn Thị A", phone="0912345678")
    case = Case.objects.create(
        number=number, province=world.hanoi, survivor=survivor, lead_agency=lead or world.police,
        responsible=world.lead_responder,
    )
    case_permissions_sync(case=case)
    return case


def share(world, case, *, agency=None, sector="", granted=(), refused=(), **extra):
    consent = Consent.objects.create(
        case=case, receiving_agency=agency, receiving_sector=sector, granted_categories=list(granted),
        refused_categories=list(refused), purpose="referral", given_by=ConsentGiver.SURVIVOR,
        recorded_by=world.lead_responder, recorded_by_agency=world.police, **extra,
    )
    case_permissions_sync(case=case)
    return consent


@pytest.fixture
def case(world):
    return bare_case(world)


@pytest.fixture
def sector():
    return Sector
