"""The oracle test (issue 10, part 6): random worlds, every user, through the HTTP API, against an
independent oracle.

Hypothesis builds small worlds: which agency is inactive, who belongs to which agencies with which
role (people of two agencies included), cases with a lead, consents to an agency or a sector with
granted and refused categories, expiry dates (past, future) and withdrawals, handoffs in every state
(referrals and transfers, with or without an emergency override; an accepted transfer moves the
lead), a break-glass use, and the instant at which everything is read (the build time, or just
before, at or just after one of the expiries: the clock moves and nothing else happens). Then every
user of the world reads the case list and each case through `/api/cases/`, a person of several
agencies with or without an `X-Acting-Agency` header, and what they get is compared with `oracle`.

`oracle` is a plain function over the domain rows, written from the rules of access (DESIGN and
the decisions in the issue's notes, summed up in permissions/README.md); it never calls the
project's permission code. The world's rows are written straight to the database (fast) and the
case's sharing event hook (cases.sharing.case_permissions_sync, what every service calls after
such a change) is run once, as the services would have; break-glass goes through its service.

Bounded: each example runs inside one transaction that is rolled back; the worlds are small; the
number of examples is ORACLE_EXAMPLES (300 on PostgreSQL, 60 on SQLite; raise it locally to search
longer, and ORACLE_SHRINK=1 to have Hypothesis shrink a failing world).
"""

import datetime
import os
from dataclasses import dataclass

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from agencies.models import Agency, AnalystScope, Province, Sector
from agencies.services import agency_create, membership_add
from cases.breakglass import break_glass_open
from cases.models import Case, Consent, ConsentGiver, Survivor
from cases.sharing import case_permissions_sync
from handoffs.models import Handoff, Urgency

pytestmark = pytest.mark.django_db

# CI runs the whole suite on PostgreSQL and on the embedded default: the full run is on PostgreSQL,
# a shorter one on SQLite.
EXAMPLES = int(os.environ.get("ORACLE_EXAMPLES", "300" if connection.vendor == "postgresql" else "60"))

# --- The vocabulary, spelled out here rather than imported: the oracle owes nothing to the code. --

CATEGORIES = ("identity", "contact", "medical", "police_legal", "education", "psychosocial")
ALL = frozenset(CATEGORIES)
VIEW, CHANGE, LOG, SHARE, CLOSE = "view_case", "change_case", "log_action", "manage_sharing", "close_case"
LEAD_RIGHTS = frozenset({VIEW, CHANGE, LOG, SHARE, CLOSE})
RECEIVER_RIGHTS = frozenset({VIEW, LOG})
FORMER_LEAD_RIGHTS = frozenset({VIEW, LOG})
COMPLETED_RIGHTS = frozenset({VIEW})
REFERRAL, TRANSFER = "referral", "transfer"
SENT, ACCEPTED, DECLINED, WITHDRAWN, COMPLETED = "sent", "accepted", "declined", "withdrawn", "completed"
RESPONDER, SUPERVISOR = "responder", "supervisor"
CASE_ROLES = (RESPONDER, SUPERVISOR)

T0 = datetime.datetime(2026, 6, 1, 3, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)
SECOND = datetime.timedelta(seconds=1)
BREAK_GLASS_HOURS = 4

# The agencies of every world: two of the health sector, so that a consent to a sector reaches
# more than one agency. The last one is never made inactive (the break-glass user works there).
AGENCY_SECTORS = (Sector.POLICE, Sector.HEALTH, Sector.HEALTH, Sector.SOCIAL_WORK, Sector.HOTLINE)
PEOPLE = 3  # users whose memberships each world draws


# --- The oracle ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OConsent:
    agency: int | None
    sector: str
    granted: frozenset[str]
    refused: frozenset[str]
    expires_at: datetime.datetime | None
    withdrawn: bool


@dataclass(frozen=True)
class OHandoff:
    kind: str
    from_agency: int
    to_agency: int
    categories: frozenset[str]
    status: str
    override: bool


@dataclass(frozen=True)
class OBreakGlass:
    user: int
    categories: frozenset[str]
    started_at: datetime.datetime
    ends_at: datetime.datetime


@dataclass(frozen=True)
class OCase:
    id: int
    lead: int
    consents: tuple[OConsent, ...]
    handoffs: tuple[OHandoff, ...]
    break_glass: tuple[OBreakGlass, ...]


@dataclass(frozen=True)
class OUser:
    id: int
    memberships: tuple[tuple[int, str], ...]  # (agency id, role)
    superuser: bool = False
    staff: bool = False
    analyst: bool = False


@dataclass(frozen=True)
class Seen:
    rights: frozenset[str]
    categories: frozenset[str]


def in_force(consent: OConsent, t: datetime.datetime) -> bool:
    return not consent.withdrawn and (consent.expires_at is None or consent.expires_at > t)


def _consents_to(case: OCase, agency: int, sectors: dict[int, str], t) -> list[OConsent]:
    return [
        c for c in case.consents
        if in_force(c, t) and (c.agency == agency or (c.agency is None and c.sector == sectors[agency]))
    ]


def agency_sees(case: OCase, agency: int, sectors: dict[int, str], t) -> Seen | None:
    """What one agency holds on the case at instant t."""
    consents = _consents_to(case, agency, sectors, t)
    refused = frozenset().union(*(c.refused for c in consents))
    granted = frozenset().union(*(c.granted for c in consents))
    if agency == case.lead:
        # The lead holds everything but what the survivor refuses to it (or its sector) right now.
        return Seen(LEAD_RIGHTS, ALL - refused)
    rights: set[str] = set()
    categories: set[str] = set()
    for handoff in case.handoffs:
        if handoff.kind == TRANSFER and handoff.from_agency == agency and handoff.status in (ACCEPTED, COMPLETED):
            # A former lead keeps working with what it collected, refusals in force excepted.
            rights |= FORMER_LEAD_RIGHTS
            categories |= ALL - refused
        if handoff.to_agency != agency or handoff.kind != REFERRAL:
            continue
        if handoff.status == ACCEPTED:
            allowed = handoff.categories if handoff.override else handoff.categories & granted
            shared = allowed - refused
            # Being on the case needs some category actually shared: a consent that grants nothing
            # (or only what is refused) does not open it.
            if shared:
                rights |= RECEIVER_RIGHTS
                categories |= shared
        elif handoff.status == COMPLETED and (handoff.override or granted - refused):
            rights |= COMPLETED_RIGHTS
    return Seen(frozenset(rights), frozenset(categories)) if rights else None


def reads_cases(user: OUser) -> bool:
    """Analysts, agency admins, staff and superusers administer or count; they never read cases."""
    return not (user.superuser or user.staff or user.analyst) and all(
        role in CASE_ROLES for _, role in user.memberships
    )


def oracle(*, user: OUser, case: OCase, sectors: dict[int, str], active: dict[int, bool], t,
           acting: int | None = None) -> Seen | None:
    """What `user` sees of `case` at instant t: None (not the case at all), or the rights and the
    data categories. A person of several agencies reads the union; their rights beyond viewing are
    those of the agency they act for (all of their agencies' while they have not chosen one)."""
    if not reads_cases(user):
        return None
    agencies = sorted({a for a, role in user.memberships if role in CASE_ROLES and active[a]})
    held = {a: seen for a in agencies if (seen := agency_sees(case, a, sectors, t)) is not None}
    uses = [u for u in case.break_glass if u.user == user.id]
    glass = None
    if uses:
        latest = max(uses, key=lambda u: u.started_at)
        if latest.started_at <= t < latest.ends_at:
            refused = frozenset().union(
                *(c.refused for a in agencies for c in _consents_to(case, a, sectors, t))
            )
            glass = latest.categories - refused
    if not held and glass is None:
        return None
    categories = frozenset().union(*(s.categories for s in held.values()), glass or ())
    if len(agencies) > 1 and acting is None:
        rights = frozenset().union(*(s.rights for s in held.values()), {VIEW})
    else:
        chosen = acting if len(agencies) > 1 else (agencies[0] if agencies else None)
        rights = held[chosen].rights if chosen in held else frozenset({VIEW})
    return Seen(rights, categories)


def test_the_oracle_reads_the_rules_as_written():
    """A few hand-checked cases of the oracle itself."""
    sectors = {1: "police", 2: "health", 3: "health"}
    active = {1: True, 2: True, 3: True}
    person = OUser(7, ((2, RESPONDER),))
    refusal = OConsent(None, "health", frozenset({"contact"}), frozenset({"identity"}), T0 + HOUR, False)
    referral = OHandoff(REFERRAL, 1, 2, frozenset({"contact", "identity"}), ACCEPTED, False)
    case = OCase(1, 1, (refusal,), (referral,), ())
    assert oracle(user=person, case=case, sectors=sectors, active=active, t=T0) == Seen(
        RECEIVER_RIGHTS, frozenset({"contact"}))
    assert oracle(user=person, case=case, sectors=sectors, active=active, t=T0 + HOUR) is None
    transfer = OHandoff(TRANSFER, 1, 2, frozenset({"contact"}), ACCEPTED, False)
    moved = OCase(1, 2, (refusal,), (transfer,), ())
    assert oracle(user=person, case=moved, sectors=sectors, active=active, t=T0).categories == ALL - {"identity"}
    assert oracle(user=person, case=moved, sectors=sectors, active=active, t=T0 + HOUR).categories == ALL
    two = OUser(8, ((1, RESPONDER), (3, SUPERVISOR)))
    assert oracle(user=two, case=moved, sectors=sectors, active=active, t=T0).rights == FORMER_LEAD_RIGHTS
    assert oracle(user=two, case=moved, sectors=sectors, active=active, t=T0, acting=3).rights == {VIEW}
    assert oracle(user=OUser(9, (), analyst=True), case=case, sectors=sectors, active=active, t=T0) is None


# --- The world, in the database --------------------------------------------------------------------


@dataclass
class Base:
    agencies: list[Agency]
    people: list
    bg_user: object
    outsiders: list  # (user, OUser) of those who never read cases
    recorder: object


@pytest.fixture
def base(db) -> Base:
    province = Province.objects.create(code="01", name="Hà Nội", name_ascii="Ha Noi", abbreviation="HN",
                                       type="city", valid_from="2025-07-01")
    agencies = [agency_create(name=f"Cơ quan {i} ({sector})", sector=sector, province=province)
                for i, sector in enumerate(AGENCY_SECTORS)]
    User = get_user_model()
    people = [User.objects.create_user(username=f"person{i}") for i in range(PEOPLE)]
    bg_user = User.objects.create_user(username="emergency.doctor")
    membership_add(user=bg_user, agency=agencies[-1], role=RESPONDER)
    bg_user.user_permissions.add(Permission.objects.get(codename="break_glass", content_type__app_label="permissions"))
    recorder = User.objects.create_user(username="recorder")
    analyst = User.objects.create_user(username="analyst")
    AnalystScope.objects.create(user=analyst, province=None)
    admin = User.objects.create_user(username="agency.admin")
    membership_add(user=admin, agency=agencies[0], role="agency_admin")
    superuser = User.objects.create_superuser(username="sysadmin")
    staff = User.objects.create_user(username="staff", is_staff=True)
    nobody = User.objects.create_user(username="nobody")
    outsiders = [
        (analyst, OUser(analyst.pk, (), analyst=True)),
        (admin, OUser(admin.pk, ((agencies[0].pk, "agency_admin"),))),
        (superuser, OUser(superuser.pk, (), superuser=True, staff=True)),
        (staff, OUser(staff.pk, (), staff=True)),
        (nobody, OUser(nobody.pk, ())),
    ]
    return Base(agencies, people, bg_user, outsiders, recorder)


_agency = st.integers(0, len(AGENCY_SECTORS) - 1)
_category_choice = st.sampled_from(["", "granted", "refused"])
_expiry = st.sampled_from([None, -1, 1, 2, 3])  # hours from T0; None: no end


@st.composite
def _consent(draw):
    to_sector = draw(st.booleans())
    target = draw(st.sampled_from(sorted({s.value for s in AGENCY_SECTORS}))) if to_sector else draw(_agency)
    choices = draw(st.tuples(*[_category_choice] * len(CATEGORIES)))
    return {
        "target": ("sector", target) if to_sector else ("agency", target),
        "granted": frozenset(c for c, v in zip(CATEGORIES, choices, strict=True) if v == "granted"),
        "refused": frozenset(c for c, v in zip(CATEGORIES, choices, strict=True) if v == "refused"),
        "expiry": draw(_expiry),
        "withdrawn": draw(st.integers(0, 5)) == 0,
    }


_handoff = st.fixed_dictionaries({
    "kind": st.sampled_from([REFERRAL, REFERRAL, TRANSFER]),
    "to": _agency,
    "categories": st.frozensets(st.sampled_from(CATEGORIES), min_size=1, max_size=3),
    "status": st.sampled_from([SENT, ACCEPTED, ACCEPTED, DECLINED, WITHDRAWN, COMPLETED]),
    "override": st.integers(0, 4).map(lambda n: n == 0),
})
_case = st.fixed_dictionaries({
    "lead": _agency,
    "consents": st.lists(_consent(), max_size=3),
    "handoffs": st.lists(_handoff, max_size=3),
    "break_glass": st.one_of(st.none(), st.frozensets(st.sampled_from(CATEGORIES), min_size=1, max_size=3)),
})
_world = st.fixed_dictionaries({
    "inactive": st.one_of(st.none(), st.integers(0, len(AGENCY_SECTORS) - 2)),
    "memberships": st.lists(
        st.lists(st.tuples(_agency, st.sampled_from(CASE_ROLES)), min_size=0, max_size=2,
                 unique_by=lambda m: m[0]),
        min_size=PEOPLE, max_size=PEOPLE,
    ),
    "cases": st.lists(_case, min_size=1, max_size=2),
})


def _build(base: Base, world: dict) -> tuple[list[OCase], list[tuple[object, OUser]]]:
    """Write the world's rows at T0 and return the oracle's view of them."""
    agencies = base.agencies
    users: list[tuple[object, OUser]] = []
    for person, memberships in zip(base.people, world["memberships"], strict=True):
        for index, role in memberships:
            membership_add(user=person, agency=agencies[index], role=role)
        users.append((person, OUser(person.pk, tuple((agencies[i].pk, role) for i, role in memberships))))
    users.append((base.bg_user, OUser(base.bg_user.pk, ((agencies[-1].pk, RESPONDER),))))
    if world["inactive"] is not None:
        Agency.objects.filter(pk=agencies[world["inactive"]].pk).update(active=False)
    cases: list[OCase] = []
    for number, spec in enumerate(world["cases"], start=1):
        survivor = Survivor.objects.create(pseudonym=f"NC-ORC{number:03d}", full_name="Nguyễn Thị Lan",
                                           phone="0912345678")
        lead = agencies[spec["lead"]]
        case = Case.objects.create(number=f"HN-2026-{number:06d}", province=lead.province, survivor=survivor,
                                   lead_agency=lead, created_at=T0 - 24 * HOUR)
        consents = []
        for c in spec["consents"]:
            kind, target = c["target"]
            agency = agencies[target] if kind == "agency" else None
            expires_at = None if c["expiry"] is None else T0 + c["expiry"] * HOUR
            Consent.objects.create(
                case=case, receiving_agency=agency, receiving_sector="" if agency else target,
                granted_categories=sorted(c["granted"]), refused_categories=sorted(c["refused"]),
                purpose="oracle", given_by=ConsentGiver.SURVIVOR, recorded_by=base.recorder,
                recorded_by_agency=lead, recorded_at=T0 - 12 * HOUR, expires_at=expires_at,
                withdrawn_at=T0 - HOUR if c["withdrawn"] else None,
                withdrawn_by=base.recorder if c["withdrawn"] else None,
            )
            consents.append(OConsent(agency.pk if agency else None, "" if agency else target, c["granted"],
                                     c["refused"], expires_at, c["withdrawn"]))
        handoffs = []
        current = lead
        # Rows the database refuses (partial unique constraints): a second open handoff to the same
        # agency, a second transfer waiting for an answer. handoff_send never makes them either.
        open_to: set[int] = set()
        transfer_waiting = False
        for step, h in enumerate(spec["handoffs"]):
            to = agencies[h["to"]]
            if to.pk == current.pk:
                continue
            status = h["status"]
            if h["kind"] == TRANSFER and status == COMPLETED:
                status = ACCEPTED  # a transfer is done once accepted
            if status in (SENT, ACCEPTED) and to.pk in open_to:
                continue
            if h["kind"] == TRANSFER and status == SENT and transfer_waiting:
                continue
            if status in (SENT, ACCEPTED):
                open_to.add(to.pk)
            transfer_waiting = transfer_waiting or (h["kind"] == TRANSFER and status == SENT)
            Handoff.objects.create(
                case=case, kind=h["kind"], from_agency=current, to_agency=to, services=["counselling"],
                urgency=Urgency.URGENT, categories=sorted(h["categories"]), emergency_override=h["override"],
                override_reason="Nguy hiểm đến tính mạng" if h["override"] else "", status=status,
                sent_by=base.recorder, sent_at=T0 - (10 - step) * HOUR, due_at=T0 + 12 * HOUR,
                decline_reason="Không đủ chuyên môn" if status == DECLINED else "",
            )
            handoffs.append(OHandoff(h["kind"], current.pk, to.pk, h["categories"], status, h["override"]))
            if h["kind"] == TRANSFER and status == ACCEPTED:
                current = to
        if current.pk != lead.pk:
            Case.objects.filter(pk=case.pk).update(lead_agency=current)
            case.lead_agency = current
        case_permissions_sync(case=case)
        uses = []
        if spec["break_glass"] is not None:
            try:
                use = break_glass_open(user=base.bg_user, case_number=case.number, reason="Cấp cứu, nguy hiểm",
                                       categories=sorted(spec["break_glass"]))
            except ValidationError:
                pass  # the case is already open to them, or a category is refused to them: nothing opened
            else:
                uses.append(OBreakGlass(base.bg_user.pk, frozenset(use.categories), use.started_at, use.ends_at))
        cases.append(OCase(case.pk, current.pk, tuple(consents), tuple(handoffs), tuple(uses)))
    return cases, users


def _instants(cases: list[OCase]) -> list[datetime.datetime]:
    """When to read: at build time, or just before, exactly at and just after an end."""
    ends = {c.expires_at for case in cases for c in case.consents if c.expires_at and c.expires_at > T0}
    ends |= {u.ends_at for case in cases for u in case.break_glass}
    return [T0, *sorted(e + d for e in ends for d in (-SECOND, datetime.timedelta(0), SECOND))]


def _observe(client: APIClient, case_ids: list[int], acting: int | None) -> tuple[set[int], dict[int, Seen | None]]:
    headers = {"HTTP_X_ACTING_AGENCY": str(acting)} if acting is not None else {}
    listing = client.get("/api/cases/", **headers)
    assert listing.status_code == 200, listing.content
    listed = {row["id"] for row in listing.json()["results"]}
    seen: dict[int, Seen | None] = {}
    for case_id in case_ids:
        response = client.get(f"/api/cases/{case_id}/", **headers)
        assert response.status_code in (200, 404), response.content
        if response.status_code == 404:
            seen[case_id] = None
            continue
        body = response.json()
        access = body["access"]
        categories = frozenset(access["categories"])
        # The survivor's identifying fields follow the categories the API claims.
        assert ("full_name" in body["survivor"]) == ("identity" in categories), body
        assert ("phone" in body["survivor"]) == ("contact" in categories), body
        seen[case_id] = Seen(frozenset(access["rights"]), categories)
    return listed, seen


def _object_checks(user, ouser: OUser, cases: list[OCase], sectors, active, t) -> list[tuple]:
    """guardian-style object checks answer from the access rows (cases.permission_backend): the
    codenames held through any of the person's agencies or own rows, as the oracle reads them without
    a chosen agency. A superuser is left to Django, which says yes to everything before any backend."""
    from cases.models import Case
    from cases.permission_backend import CaseAccessChecker

    checker = CaseAccessChecker(user)
    objects = list(Case.objects.filter(pk__in=[c.id for c in cases]).order_by("pk"))
    checker.prefetch_perms(objects)
    found = []
    for case, obj in zip(sorted(cases, key=lambda c: c.id), objects, strict=True):
        expected = oracle(user=ouser, case=case, sectors=sectors, active=active, t=t)
        want = set() if expected is None else set(expected.rights) | {f"view_{c}" for c in expected.categories}
        got = set(checker.get_perms(obj))
        if got != want:
            found.append((ouser, case, "objects", f"get_perms={sorted(got)}", sorted(want)))
        if not ouser.superuser and user.has_perm("cases.view_case", obj) != ("view_case" in want):
            found.append((ouser, case, "objects", "has_perm(view_case)", sorted(want)))
    return found


# No shrinking by default: it can take minutes on a world this size; the first failing world is
# reported whole (ORACLE_SHRINK=1 to shrink it locally).
PHASES = [Phase.explicit, Phase.generate] + ([Phase.shrink] if os.environ.get("ORACLE_SHRINK") else [])


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, phases=PHASES,
          report_multiple_bugs=False,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(world=_world, data=st.data())
def test_every_user_sees_what_the_oracle_says(base, world, data):
    sectors = {a.pk: a.sector for a in base.agencies}
    mismatches = []
    with transaction.atomic():
        with time_machine.travel(T0, tick=False):
            cases, users = _build(base, world)
        active = {a.pk: a.pk != (base.agencies[world["inactive"]].pk if world["inactive"] is not None else None)
                  for a in base.agencies}
        users.append(data.draw(st.sampled_from(base.outsiders), label="outsider"))
        t = data.draw(st.sampled_from(_instants(cases)), label="read at")
        case_ids = [c.id for c in cases]
        client = APIClient()
        with time_machine.travel(t, tick=False):
            for user, ouser in users:
                agencies = sorted({a for a, role in ouser.memberships if role in CASE_ROLES and active[a]})
                acting = None
                if len(agencies) > 1:
                    acting = data.draw(st.sampled_from([None, *agencies]), label=f"acting for {ouser.id}")
                client.force_authenticate(user)
                listed, seen = _observe(client, case_ids, acting)
                mismatches.extend(_object_checks(user, ouser, cases, sectors, active, t))
                for case in cases:
                    expected = oracle(user=ouser, case=case, sectors=sectors, active=active, t=t, acting=acting)
                    if seen[case.id] != expected:
                        mismatches.append((ouser, case, acting, seen[case.id], expected))
                    if (case.id in listed) != (expected is not None):
                        mismatches.append((ouser, case, acting, f"listed={case.id in listed}", expected))
        transaction.set_rollback(True)
    assert not mismatches, "\n".join(
        f"at {t}: {ouser} acting={acting} on {case}: API {got}, oracle {want}"
        for ouser, case, acting, got, want in mismatches
    )
