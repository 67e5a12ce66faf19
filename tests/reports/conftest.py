"""Rows for the report tests, created straight from the models: these tests are about counting
what is stored, not about opening cases. Synthetic data only."""

import copy
import datetime
import itertools
from dataclasses import dataclass, field

import pytest

from agencies.models import Commune
from cases.models import Action, Case, Incident, IncidentTechForm, Survivor
from config.formats import VIETNAM
from handoffs.models import Handoff
from notifications.models import Deadline
from reports.services import monthly_reports_build
from takedowns.models import TakedownRequest
from tests.conftest import World, world_in_bulk

OCTOBER = datetime.date(2026, 10, 1)
TODAY = datetime.date(2026, 11, 29)
_numbers = itertools.count(1)


def local(year, month, day, hour=12, minute=0, second=0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=VIETNAM)


def make_case(world, *, created_at, sex="female", birth_year=None, province=None, lead=None, consent=True,
              closed_at=None) -> Case:
    n = next(_numbers)
    province = province or world.hanoi
    survivor = Survivor.objects.create(pseudonym=f"RP-{n:06d}", sex=sex, birth_year=birth_year)
    return Case.objects.create(
        number=f"{province.abbreviation}-2026-{n:06d}", province=province, survivor=survivor,
        lead_agency=lead or world.police, responsible=world.lead_responder, statistics_consent=consent,
        created_at=created_at, closed_at=closed_at, status="closed" if closed_at else "open",
    )


def make_incident(world, case, *, reported_on, gbv_type, occurred_on=None, province=None, commune=None,
                  delay="unknown", tech_forms=()) -> Incident:
    incident = Incident.objects.create(
        case=case, reported_on=reported_on, occurred_on=occurred_on, province=province or case.province,
        commune=commune, gbv_type=gbv_type, reporting_delay=delay, recorded_by=world.lead_responder,
        recorded_by_agency=case.lead_agency,
    )
    for form in tech_forms:
        IncidentTechForm.objects.create(incident=incident, form=form)
    return incident


def make_action(world, case, *, type, at, agency, category="general") -> Action:
    return Action.objects.create(
        case=case, type=type, category=category, occurred_at=at, actor=world.lead_responder, agency=agency,
    )


def draft_get(drafts, scope, key):
    """The draft table or statistic `key` of a scope in month_drafts(...)'s answer."""
    return next(d for d in drafts[scope] if d.key == key)


def draft_cells(draft) -> dict:
    """Non-zero cells as {(row, column): n}, column '' for one-column tables."""
    return {
        (row, "|".join(column)): value
        for row, values in zip(draft.rows, draft.cells, strict=True)
        for column, value in zip(draft.columns, values, strict=True)
        if value
    }


@dataclass
class October:
    """October 2026 with hand-counted indicators (see the comments of `october`)."""

    world: object
    cases: dict = field(default_factory=dict)
    commune: object = None


@pytest.fixture
def october(world) -> October:
    return october_build(world)


def october_build(world) -> October:
    w = world
    d = datetime.date
    ba_dinh = Commune.objects.create(code="00004", name="Phường Ba Đình", province=w.hanoi, valid_from="2025-07-01")
    o = October(world=w, commune=ba_dinh)
    c = o.cases
    # C1: girl born 2012 (13 → 12–17, under 16), opened 00:30 local on the 1st (17:30 UTC on 30 Sept).
    c[1] = make_case(w, created_at=local(2026, 10, 1, 0, 30), birth_year=2012)
    make_incident(w, c[1], reported_on=d(2026, 10, 1), occurred_on=d(2026, 9, 29), gbv_type="rape",
                  delay="0-3", tech_forms=("sextortion", "ncii"), commune=ba_dinh)
    make_action(w, c[1], type="medical_care", at=local(2026, 10, 2, 10), agency=w.health, category="medical")
    # C2: woman born 2000 (25 → 18–25); rape reported 3 days after; the referral 4 days after the report.
    c[2] = make_case(w, created_at=local(2026, 10, 15), birth_year=2000)
    make_incident(w, c[2], reported_on=d(2026, 10, 15), occurred_on=d(2026, 10, 12), gbv_type="rape", delay="0-3",
                  commune=ba_dinh)
    make_action(w, c[2], type="referral", at=local(2026, 10, 19, 9), agency=w.police, category="medical")
    # C3: boy born 2015 (10 → 0–11), led by health, closed at 23:59 local on 31 October.
    c[3] = make_case(w, created_at=local(2026, 10, 20), sex="male", birth_year=2015, lead=w.health,
                     closed_at=local(2026, 10, 31, 23, 59))
    make_incident(w, c[3], reported_on=d(2026, 10, 20), gbv_type="physical_assault")
    make_action(w, c[3], type="counselling", at=local(2026, 10, 21), agency=w.health, category="psychosocial")
    # C4: Huế, education-led, no birth year, opened 23:30 local on 31 October; a takedown request.
    c[4] = make_case(w, created_at=local(2026, 10, 31, 23, 30), province=w.hue, lead=w.school)
    make_incident(w, c[4], reported_on=d(2026, 10, 31), gbv_type="sexual_assault", delay="4-5",
                  tech_forms=("grooming",))
    make_action(w, c[4], type="takedown_requested", at=local(2026, 10, 31, 12), agency=w.school)
    # C5: no statistics consent: left out everywhere.
    c[5] = make_case(w, created_at=local(2026, 10, 5), birth_year=2010, consent=False)
    make_incident(w, c[5], reported_on=d(2026, 10, 5), gbv_type="rape", delay="0-3")
    make_action(w, c[5], type="medical_care", at=local(2026, 10, 5), agency=w.health, category="medical")
    # C6: opened at 23:59 local on 30 September (not new in October); its incident reported in October.
    c[6] = make_case(w, created_at=local(2026, 9, 30, 23, 59), birth_year=1990)
    make_incident(w, c[6], reported_on=d(2026, 10, 2), gbv_type="psychological_abuse", delay="6-14")
    make_action(w, c[6], type="contact", at=local(2026, 9, 30, 23), agency=w.police)
    # C7: opened at 00:00 local on 1 November: not October.
    c[7] = make_case(w, created_at=local(2026, 11, 1, 0, 0), birth_year=1995)
    make_incident(w, c[7], reported_on=d(2026, 11, 1), gbv_type="rape")
    make_action(w, c[7], type="follow_up", at=local(2026, 11, 1, 0, 10), agency=w.police)
    # C8: woman born 1965 (60 → 41–60); rape reported 9 days after; health care on the report day.
    c[8] = make_case(w, created_at=local(2026, 10, 10), birth_year=1965)
    make_incident(w, c[8], reported_on=d(2026, 10, 10), occurred_on=d(2026, 10, 1), gbv_type="rape", delay="6-14")
    make_action(w, c[8], type="medical_care", at=local(2026, 10, 10, 8), agency=w.health)
    # C9: woman born 1964 (61 → 61+), closed 30 s into November.
    c[9] = make_case(w, created_at=local(2026, 10, 11), birth_year=1964, closed_at=local(2026, 11, 1, 0, 0, 30))
    make_incident(w, c[9], reported_on=d(2026, 10, 11), gbv_type="denial_of_resources", delay="15-30")
    # C10: boy born 2009 (16 → 12–17, minor not child).
    c[10] = make_case(w, created_at=local(2026, 10, 12), sex="male", birth_year=2009)
    make_incident(w, c[10], reported_on=d(2026, 10, 12), gbv_type="forced_marriage", delay="30+")
    # C11: sex "other", born 2008 (17 → 12–17).
    c[11] = make_case(w, created_at=local(2026, 10, 14), sex="other", birth_year=2008)
    make_incident(w, c[11], reported_on=d(2026, 10, 14), gbv_type="sexual_assault")
    # C12: sex unknown, born 2007 (18 → 18–25, adult).
    c[12] = make_case(w, created_at=local(2026, 10, 13), sex="unknown", birth_year=2007)
    make_incident(w, c[12], reported_on=d(2026, 10, 13), gbv_type="non_gbv", delay="0-3")
    return o


def seed_busy_month(world, period: datetime.date, *, count: int = 150, prefix: str = "BZ") -> None:
    """`count` more cases in the month (bulk-created, seeded): enough that many counts are published."""
    import random

    w = world
    rng = random.Random(2026)
    types = ["rape", "rape", "sexual_assault", "physical_assault", "physical_assault", "psychological_abuse"]
    survivors, cases = [], []
    for n in range(count):
        survivors.append(Survivor(pseudonym=f"{prefix}-{n:06d}", sex=rng.choice(["female"] * 4 + ["male"]),
                                  birth_year=rng.choice([1990, 1995, 2000, 2005, 2010, 2015])))
    Survivor.objects.bulk_create(survivors)
    for n, survivor in enumerate(survivors):
        province, lead = (w.hanoi, rng.choice([w.police, w.health])) if n < count * 11 // 15 else (w.hue, w.school)
        cases.append(Case(
            number=f"{prefix}-{period.year}-{n:06d}", province=province, survivor=survivor, lead_agency=lead,
            responsible=w.lead_responder, created_at=local(period.year, period.month, 1 + n % 28, 9),
        ))
    Case.objects.bulk_create(cases)
    incidents = []
    for n, case in enumerate(cases):
        day = datetime.date(period.year, period.month, 1 + n % 28)
        incidents.append(Incident(
            case=case, reported_on=day, gbv_type=rng.choice(types), province=case.province,
            reporting_delay=rng.choice(["0-3", "4-5", "6-14"]),
            occurred_on=day - datetime.timedelta(days=rng.choice([0, 1, 5])),
            recorded_by=w.lead_responder, recorded_by_agency=case.lead_agency,
        ))
    Incident.objects.bulk_create(incidents)
    IncidentTechForm.objects.bulk_create([IncidentTechForm(incident=i, form="harassment") for i in incidents[::3]])
    Action.objects.bulk_create([
        Action(case=case, type="medical_care", category="medical",
               occurred_at=local(period.year, period.month, 1 + n % 28, 15), actor=w.lead_responder, agency=w.health)
        for n, case in enumerate(cases[: count * 3 // 5])
    ])
    seed_busy_coordination(world, period, cases, rng)


RESPONSE_TIME = {"emergency": datetime.timedelta(hours=1), "urgent": datetime.timedelta(hours=12),
                 "standard": datetime.timedelta(hours=72)}


def seed_busy_coordination(world, period: datetime.date, cases: list, rng) -> None:
    """Referrals of three cases in five, a deadline for every other case, a takedown request for one
    case in five: enough that the coordination tables publish numbers and the median."""
    w = world
    hours = datetime.timedelta(hours=1)
    handoffs = []
    for n, case in enumerate(cases[: len(cases) * 3 // 5]):
        sent = local(period.year, period.month, 1 + n % 28, 10)
        urgency = rng.choice(["urgent", "urgent", "standard", "emergency"])
        roll = rng.random()
        status = "accepted" if roll < 0.7 else "declined" if roll < 0.8 else "sent" if roll < 0.9 else "withdrawn"
        answered = None
        if status in ("accepted", "declined"):
            answered = sent + rng.choice([1, 2, 3, 5, 8, 13, 30, 80]) * hours
        handoffs.append(Handoff(
            case=case, kind="referral", from_agency=case.lead_agency,
            to_agency=w.police if case.lead_agency_id == w.health.pk else w.health, services=["counselling"],
            urgency=urgency, status=status, sent_by=w.lead_responder, sent_at=sent,
            due_at=sent + RESPONSE_TIME[urgency],
            responded_at=answered, responded_by=w.receiving_responder if answered else None,
            decline_reason="Không đủ điều kiện" if status == "declined" else "",
        ))
    Handoff.objects.bulk_create(handoffs)
    deadlines = []
    for n, case in enumerate(cases[::2]):
        due = local(period.year, period.month, 1 + n % 28, 17)
        closed = due - hours if rng.random() < 0.7 else None
        deadlines.append(Deadline(
            kind=rng.choice(Deadline.Kind.values), subject=f"busy:{case.pk}", case_id=case.pk, case_number=case.number,
            owner_agency=case.lead_agency, due_at=due, remind_at=due - hours, escalate_at=due + hours,
            stage="closed" if closed else "overdue", closed_at=closed,
        ))
    Deadline.objects.bulk_create(deadlines)
    actions = Action.objects.bulk_create([
        Action(case=case, type="takedown_requested", category="police_legal",
               occurred_at=local(period.year, period.month, 1 + n % 28, 11), actor=w.lead_responder,
               agency=case.lead_agency)
        for n, case in enumerate(cases[::5])
    ])
    outcomes = ["removed", "removed", "removed", "pending", "refused", "no_response"]
    TakedownRequest.objects.bulk_create([
        TakedownRequest(
            case_id=action.case_id, action=action, platform=rng.choice(["facebook", "facebook", "tiktok", "zalo"]),
            content_reference_hash=f"{action.pk:064x}", requested_at=action.occurred_at,
            outcome=(outcome := rng.choice(outcomes)),
            resolved_at=None if outcome == "pending" else action.occurred_at + 5 * hours,
        )
        for action in actions
    ])


@pytest.fixture
def busy_october(october):
    """October plus 150 more cases, 110 of them in Hà Nội."""
    seed_busy_month(october.world, OCTOBER)
    return october


@dataclass
class Published:
    """busy_october's world and the reports published for it, by scope (None: national; a province code)."""

    world: World
    reports: dict


@pytest.fixture(scope="module")
def _published_once(module_transaction, django_db_blocker) -> Published:
    with django_db_blocker.unblock():
        world = world_in_bulk()
        october_build(world)
        seed_busy_month(world, OCTOBER)
        outcome = monthly_reports_build(period=OCTOBER, today=TODAY)
        reports = {(r.province.code if r.province_id else None): r for r in outcome.created}
    return Published(world=world, reports=reports)


@pytest.fixture
def published(db, _published_once) -> Published:
    """busy_october with its month published, written once for the module (some 5 s of CPU a time; a
    module's tests of reading, downloading and pushing the reports used to write it each) and rolled back
    after its last test (module_transaction); each test gets its own copy of the objects, and its own
    writes are rolled back after it. A module that uses it takes `world` from it too."""
    return copy.deepcopy(_published_once)


@pytest.fixture
def reports(published) -> dict:
    """The published reports by scope (None: national; a province code)."""
    return published.reports
