"""A national world of many cases, written in bulk (`manage.py seed_scale`), for benchmarks and for
sizing hardware.

The rows are those the services write (cases.services.case_open, handoffs.services, deadlines.services,
cases.sharing): the same columns, the same sealed text (each case's own data key, wrapped under the
key ring), the same timeline lines, deadlines in every stage the sweep would have brought them to,
and the access rows computed by the sharing policy itself (cases.sharing.case_grants_from_rows
and permissions.services.access_keys, the functions the services use; no guardian object-permission
rows, which the services no longer write). Only the way of
writing differs: ids drawn in blocks, then PostgreSQL COPY (executemany on SQLite), one chunk of
cases per transaction. Audit events are written for what opens a case and sends or answers a
handoff, already chained (the hash of audit.chain, under the chain lock, from the chain's head).

Not written: notifications and their outbox (the history's messages were delivered long ago),
break-glass uses, takedown requests, intake drafts. No real personal data: names from Faker vi_VN.
"""

import datetime
import json
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cryptography.fernet import Fernet
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db import connection, models, transaction
from django.utils import timezone

from agencies.models import Agency, AgencyGroup, AnalystScope, Membership, Province, Role, Sector
from agencies.services import agency_group_name, province_load_reference
from audit.chain import GENESIS_HASH, event_hash
from audit.models import AuditAction, AuditEvent
from audit.services import CHAIN_LOCK_KEY
from cases.classification import reporting_delay_bucket
from cases.events import CHILD_SERIOUS_RISK, CHILD_SUPPORT_PLAN, DeadlineClosure
from cases.models import (
    Action,
    ActionType,
    Case,
    CaseAccessRow,
    CaseEvent,
    CaseEventType,
    CaseKey,
    CaseNumberSequence,
    CaseStatus,
    Consent,
    ConsentGiver,
    GbvType,
    Incident,
    IncidentTechForm,
    PerpetratorRelationship,
    RiskLevel,
    Sex,
    Survivor,
    TechForm,
)
from cases.services import PSEUDONYM_PREFIX
from cases.sharing import case_grants_from_rows
from deadlines.services import LEGAL_LIMIT_DONE_BY, SERIOUS_RISK_LEVELS, case_path
from encryption import crypto
from handoffs.models import Handoff, HandoffKind, HandoffService, HandoffStatus, Urgency
from handoffs.selectors import handoff_path
from handoffs.sharing import handoff_shares
from notifications.calendar import days_off_preloaded, time_limit_effective, working_time_add
from notifications.models import Deadline, LegalTimeLimit
from notifications.services import _default_escalate_at, _default_remind_at, handoff_response_rule_code
from permissions.categories import GENERAL, DataCategory
from permissions.services import access_keys

SCALE_PASSWORD = "hopluc-demo-2026"  # noqa: S105 (the published demo password; synthetic accounts only)
AGENCY_PREFIX = "Scale"
SECTORS = list(Sector.values)
# Sectors that open cases, first in each province's list: the busiest agencies of the country.
LEADING_SECTORS = (Sector.POLICE, Sector.HEALTH, Sector.SOCIAL_WORK, Sector.HOTLINE, Sector.WOMENS_UNION,
                   Sector.EDUCATION)
CATEGORIES = list(DataCategory.values)
DECLINE_REASON = "Ngoài phạm vi dịch vụ"  # every seeded decline's
ACTION_CATEGORY = {
    ActionType.MEDICAL_CARE: DataCategory.MEDICAL, ActionType.FORENSIC_EXAM: DataCategory.MEDICAL,
    ActionType.STATEMENT_TAKEN: DataCategory.POLICE_LEGAL, ActionType.PROTECTION_ORDER: DataCategory.POLICE_LEGAL,
    ActionType.COUNSELLING: DataCategory.PSYCHOSOCIAL, ActionType.SCHOOL_SAFETY_PLAN: DataCategory.EDUCATION,
}
ACTION_TYPES = [t for t in ActionType.values if t not in (ActionType.TAKEDOWN_REQUESTED,)]
# Choices' values, listed once (TextChoices.values builds a new list each time).
_VALUES = {enum: list(enum.values) for enum in (GbvType, TechForm, PerpetratorRelationship, RiskLevel,
                                                HandoffService, HandoffStatus, Urgency)}
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
CHUNK = 5000
# Cases are opened over at most twenty years: far more history than any benchmark needs, and far from
# the ends of the calendar (a million months back is before year 1).
MONTHS_MAX = 240
# The first ANALYZE during a seed; then each time the seeded cases double (_statistics_refresh).
ANALYZE_FIRST = 20_000


class SeedScaleError(ValueError):
    """Arguments the seeder cannot build a world from."""


@dataclass
class ScaleReport:
    cases: int = 0
    agencies: int = 0
    users: int = 0
    seconds: float = 0.0
    # Of which writing the cases (the rest made the agencies and people, on a first run).
    case_seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.case_seconds if self.case_seconds else 0.0


# --- Writing rows in bulk ------------------------------------------------------------------------


class _Ids:
    """Ids drawn ahead of the insert: from the table's sequence on PostgreSQL (concurrent writers
    keep theirs), above the highest id on SQLite (the seeder is the only writer there)."""

    def __init__(self, model: type[models.Model]):
        self.model = model
        self.table = model._meta.db_table
        self.column = model._meta.pk.column
        self.next_sqlite: int | None = None

    def take(self, n: int) -> list[int]:
        if n == 0:
            return []
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [self.table, self.column, n],
                )
                return [row[0] for row in cursor.fetchall()]
            if self.next_sqlite is None:
                # Table and column names come from the models, never from input.
                cursor.execute(f'SELECT COALESCE(MAX("{self.column}"), 0) FROM "{self.table}"')  # noqa: S608
                self.next_sqlite = cursor.fetchone()[0] + 1
        first = self.next_sqlite
        self.next_sqlite += n
        return list(range(first, first + n))


def _sqlite_value(value):
    if isinstance(value, uuid.UUID):
        return value.hex  # as Django's UUIDField keeps it on SQLite
    if isinstance(value, datetime.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def rows_write(model: type[models.Model], columns: list[str], rows: list[tuple]) -> int:
    """Insert `rows` (values in the order of `columns`, JSON already dumped) into the model's table:
    COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return 0
    table = model._meta.db_table
    names = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})',  # noqa: S608 (model names)
                               [tuple(_sqlite_value(v) for v in row) for row in rows])
    return len(rows)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


# --- The agencies and people ---------------------------------------------------------------------


@dataclass
class _AgencyInfo:
    id: int
    name: str
    sector: str
    province_id: int
    responders: list[tuple[int, str]]  # (user id, username)
    supervisors: list[tuple[int, str]]
    groups: list[int]  # case-role groups


def _agencies_ensure(provinces: list[Province], per_province: int, report: ScaleReport) -> list[_AgencyInfo]:
    """The scale agencies of each province (made once, found again on later runs), each with its
    groups, as agency_create makes them."""
    order = list(LEADING_SECTORS) + [s for s in SECTORS if s not in LEADING_SECTORS]
    wanted = []
    for province in provinces:
        for i in range(per_province):
            sector = order[i % len(order)]
            wanted.append(Agency(name=f"{AGENCY_PREFIX} {Sector(sector).label} {province.abbreviation} {i + 1:03d}",
                                 sector=sector, province=province))
    existing = {(a.province_id, a.name) for a in Agency.objects.filter(name__startswith=f"{AGENCY_PREFIX} ")}
    new = [a for a in wanted if (a.province_id, a.name) not in existing]
    Agency.objects.bulk_create(new, batch_size=1000)
    report.agencies = len(new)
    agencies = {(a.province_id, a.name): a for a in Agency.objects.filter(name__startswith=f"{AGENCY_PREFIX} ")}
    new_ids = [agencies[(a.province_id, a.name)].pk for a in new]
    groups = Group.objects.bulk_create(
        [Group(name=agency_group_name(agency=agencies[(a.province_id, a.name)], role=role))
         for a in new for role in Role.values], batch_size=1000)
    by_name = {g.name: g for g in groups} if all(g.pk for g in groups) else {
        g.name: g for g in Group.objects.filter(name__startswith="agency:")}
    AgencyGroup.objects.bulk_create(
        [AgencyGroup(agency_id=agency_id, role=role, group=by_name[f"agency:{agency_id}:{role}"])
         for agency_id in new_ids for role in Role.values], batch_size=1000)
    return [
        _AgencyInfo(id=agencies[(a.province_id, a.name)].pk, name=a.name, sector=a.sector,
                    province_id=a.province_id, responders=[], supervisors=[], groups=[])
        for a in wanted
    ]


def _people_ensure(agencies: list[_AgencyInfo], provinces: list[Province], responders: int,
                   report: ScaleReport) -> None:
    """Per agency `responders` responders, a supervisor and an agency admin; an analyst for the
    nation and for each province; in each province one responder of two agencies. Memberships and
    group membership as membership_add writes them (the group follows the membership)."""
    password = make_password(SCALE_PASSWORD)
    wanted: list[tuple[str, int | None, str]] = []  # (username, agency id, role)
    for agency in agencies:
        for k in range(responders):
            wanted.append((f"s{agency.id}.responder{k + 1}", agency.id, Role.RESPONDER))
        wanted.append((f"s{agency.id}.supervisor", agency.id, Role.SUPERVISOR))
        wanted.append((f"s{agency.id}.admin", agency.id, Role.AGENCY_ADMIN))
    existing = set(User.objects.filter(username__in=[w[0] for w in wanted]).values_list("username", flat=True))
    analysts = [("scale.analyst.national", None)] + [(f"scale.analyst.{p.code}", p) for p in provinces]
    existing_analysts = set(User.objects.filter(username__in=[a[0] for a in analysts]).values_list("username",
                                                                                                 flat=True))
    new_users = [User(username=u, password=password, email=f"{u}@scale.invalid") for u, _a, _r in wanted
                 if u not in existing]
    new_users += [User(username=u, password=password, email=f"{u}@scale.invalid") for u, _p in analysts
                  if u not in existing_analysts]
    User.objects.bulk_create(new_users, batch_size=2000)
    report.users = len(new_users)
    ids = dict(User.objects.filter(username__in=[w[0] for w in wanted] + [a[0] for a in analysts])
               .values_list("username", "id"))
    group_of = {(ag.agency_id, ag.role): ag.group_id
                for ag in AgencyGroup.objects.filter(agency_id__in=[a.id for a in agencies])}
    new_names = {u.username for u in new_users}
    memberships = [(ids[u], agency_id, role) for u, agency_id, role in wanted if u in new_names]
    # A person of two agencies in each province: the first police responder also answers the hotline.
    by_province: dict[int, list[_AgencyInfo]] = defaultdict(list)
    for agency in agencies:
        by_province[agency.province_id].append(agency)
    for members in by_province.values():
        police = next(a for a in members if a.sector == Sector.POLICE)
        hotline = next((a for a in members if a.sector == Sector.HOTLINE), None)
        username = f"s{police.id}.responder1"
        if hotline is not None and username in new_names:
            memberships.append((ids[username], hotline.id, Role.RESPONDER))
    Membership.objects.bulk_create([Membership(user_id=u, agency_id=a, role=r) for u, a, r in memberships],
                                   batch_size=2000)
    Through = User.groups.through
    Through.objects.bulk_create([Through(user_id=u, group_id=group_of[(a, r)]) for u, a, r in memberships],
                                batch_size=2000)
    AnalystScope.objects.bulk_create([
        AnalystScope(user_id=ids[u], province=p) for u, p in analysts if u not in existing_analysts
    ])
    by_id = {a.id: a for a in agencies}
    for user_id, agency_id, role, username in Membership.objects.filter(
            agency_id__in=list(by_id), role__in=(Role.RESPONDER, Role.SUPERVISOR)
    ).values_list("user_id", "agency_id", "role", "user__username").order_by("user_id"):
        agency = by_id[agency_id]
        (agency.responders if role == Role.RESPONDER else agency.supervisors).append((user_id, username))
    for agency in agencies:
        agency.groups = sorted(group_of[(agency.id, r)] for r in (Role.RESPONDER, Role.SUPERVISOR))


# --- The cases -----------------------------------------------------------------------------------


class _Clock:
    """Deadline times as deadline_create computes them, on the calendar read once."""

    def __init__(self):
        self.limits = {rule.code: (rule, time_limit_effective(rule=rule)) for rule in LegalTimeLimit.objects.all()}
        self.days_off = days_off_preloaded()

    def due(self, code: str, start: datetime.datetime) -> tuple[int, datetime.datetime, datetime.datetime,
                                                                datetime.datetime]:
        rule, limit = self.limits[code]
        due = working_time_add(start, amount=limit.amount, unit=limit.unit, days_off=self.days_off)
        return rule.pk, due, _default_remind_at(start=start, due_at=due), _default_escalate_at(start=start, due_at=due)


def _stage(remind_at, due_at, escalate_at, now) -> tuple[str, datetime.datetime | None]:
    """The stage the sweep has brought an open deadline to by `now`, and its next firing."""
    if now < remind_at:
        return Deadline.Stage.PENDING, remind_at
    if now < due_at:
        return Deadline.Stage.REMINDED, due_at
    if now < escalate_at:
        return Deadline.Stage.OVERDUE, escalate_at
    return Deadline.Stage.ESCALATED, None


class _Fact:
    """A plain row holder for the sharing policy (reads attributes like the model instances)."""

    def __init__(self, **values):
        self.__dict__.update(values)


COLUMNS = {
    CaseKey: ["id", "kid", "wrapped_key", "created_at", "destroyed_at"],
    Survivor: ["id", "data_key_id", "pseudonym", "full_name", "phone", "address", "guardian_name", "guardian_phone",
               "phone_hash", "sex", "birth_year", "birth_year_estimated", "disability", "ethnicity", "created_at"],
    Case: ["id", "number", "province_id", "survivor_id", "status", "lead_agency_id", "responsible_id", "risk_level",
           "statistics_consent", "created_at", "updated_at", "closed_at", "data_key_id", "anonymised_at",
           "close_reason"],
    Incident: ["id", "case_id", "occurred_on", "reported_on", "province_id", "commune_id", "gbv_type",
               "classification_answers", "perpetrator_relationship", "reporting_delay", "recorded_by_id",
               "recorded_by_agency_id", "created_at"],
    IncidentTechForm: ["incident_id", "form"],
    Action: ["id", "case_id", "type", "category", "occurred_at", "text", "actor_id", "agency_id", "created_at"],
    Consent: ["id", "case_id", "receiving_agency_id", "receiving_sector", "granted_categories", "refused_categories",
              "purpose", "given_by", "guardian_relationship", "emergency_override", "override_reason",
              "needs_review", "recorded_by_id", "recorded_by_agency_id", "recorded_at", "expires_at",
              "withdrawn_at", "withdrawn_by_id", "withdrawal_reason"],
    Handoff: ["id", "case_id", "kind", "from_agency_id", "to_agency_id", "services", "urgency", "categories",
              "message", "emergency_override", "override_reason", "status", "forwarded_from_id", "sent_by_id",
              "sent_at", "due_at", "viewed_at", "viewed_by_id", "responded_at", "responded_by_id", "decline_reason",
              "decline_reason_key", "completed_at", "outcome", "closed_by_id", "withdrawn_at", "withdraw_reason"],
    Deadline: ["id", "kind", "subject", "case_id", "case_number", "link", "owner_agency_id", "owner_user_id",
               "escalate_agency_id", "rule_id", "created_at", "due_at", "remind_at", "escalate_at", "stage",
               "next_fire_at", "closed_at", "closed_reason"],
    CaseEvent: ["case_id", "type", "at", "actor_id", "agency_id", "category", "action_id", "data"],
    CaseAccessRow: ["case_id", "agency_id", "user_id", "valid_from", "valid_until", "rights", "categories",
                    "case_updated_at"],
    AuditEvent: ["at", "actor_id", "actor_username", "agency_id", "action", "case_id", "categories", "target", "ip",
                 "request_id", "reason", "details"],
}
# One chunk's rows of each model, as tuples of its COLUMNS.
_Tables = dict[type[models.Model], list[tuple]]


def _tables() -> _Tables:
    return {model: [] for model in COLUMNS}


class ScaleWorld:
    """Generates one chunk of cases at a time into _Tables."""

    def __init__(self, *, rng: random.Random, agencies: list[_AgencyInfo], now: datetime.datetime, months: int):
        from faker import Faker

        self.rng = rng
        self.now = now
        self.start = now - datetime.timedelta(days=round(months * 30.44))
        self.agencies = {a.id: a for a in agencies}
        self.clock = _Clock()
        fake = Faker("vi_VN")
        fake.seed_instance(rng.randrange(2**31))
        self.names = [fake.name() for _ in range(500)]
        self.addresses = [fake.address().replace("\n", ", ") for _ in range(200)]
        self.by_province: dict[int, list[_AgencyInfo]] = defaultdict(list)
        for agency in agencies:
            if agency.responders:
                self.by_province[agency.province_id].append(agency)
        provinces = sorted(self.by_province)
        # The two big cities (the first two by code order: Hà Nội and its peers) carry more cases.
        self.province_weights = [4 if i < 2 else 1 for i in range(len(provinces))]
        self.provinces = provinces
        # Within a province, a Zipf-like share: the first agency leads about a fifth of its cases.
        self.agency_weights = {p: [1 / (i + 1) for i in range(len(a))] for p, a in self.by_province.items()}
        self.abbreviations = dict(Province.objects.filter(pk__in=provinces).values_list("pk", "abbreviation"))
        self.sequences = {(s.province_id, s.year): s.last for s in CaseNumberSequence.objects.all()}
        self.pseudonyms = set(Survivor.objects.values_list("pseudonym", flat=True))
        self.sectors = {a.id: a.sector for a in agencies}
        self.sectors.update(dict(Agency.objects.filter(active=True).values_list("pk", "sector")))
        self.ids = {model: _Ids(model) for model in (CaseKey, Survivor, Case, Incident, Action, Consent, Handoff,
                                                    Deadline)}

    # -- helpers --
    def _when(self, after: datetime.datetime, max_hours: float) -> datetime.datetime:
        moment = after + datetime.timedelta(hours=self.rng.uniform(0.05, max_hours))
        return min(moment, self.now - datetime.timedelta(seconds=1))

    def _pseudonym(self) -> str:
        while True:
            value = PSEUDONYM_PREFIX + "".join(self.rng.choice(_BASE32) for _ in range(6))
            if value not in self.pseudonyms:
                self.pseudonyms.add(value)
                return value

    def _number(self, province_id: int, year: int) -> str:
        last = self.sequences.get((province_id, year), 0) + 1
        self.sequences[(province_id, year)] = last
        return f"{self.abbreviations[province_id]}-{year}-{last:06d}"

    def _event(self, t: _Tables, case_id: int, type_: str, at: datetime.datetime, actor_id: int, agency_id: int,
               data: dict, category: str = GENERAL, action_id: int | None = None) -> None:
        t[CaseEvent].append((case_id, type_, at, actor_id, agency_id, category, action_id, _json(data)))

    def _audit(self, t: _Tables, at, actor: tuple[int, str], agency_id, action, case_id, categories, target,
               details):
        t[AuditEvent].append((at, actor[0], actor[1], agency_id, action, case_id, _json(categories), target, None,
                              "", "", _json(details)))

    # -- one chunk --
    def chunk(self, n: int) -> _Tables:
        rng = self.rng
        t = _tables()
        key_ids, survivor_ids, case_ids = (self.ids[m].take(n) for m in (CaseKey, Survivor, Case))
        incident_ids = self.ids[Incident].take(n)
        plans = []
        for _i in range(n):
            province_id = rng.choices(self.provinces, self.province_weights)[0]
            lead = rng.choices(self.by_province[province_id], self.agency_weights[province_id])[0]
            opened_at = self.start + (self.now - self.start) * (rng.random() ** 0.8)
            n_actions = rng.choice((0, 1, 1, 2, 2, 3, 4))
            n_handoffs = rng.choices((0, 1, 2), (50, 38, 12))[0]
            n_consents = n_handoffs + rng.choice((0, 0, 1))
            plans.append((province_id, lead, opened_at, n_actions, n_handoffs, n_consents))
        action_ids = iter(self.ids[Action].take(sum(p[3] for p in plans)))
        handoff_ids = iter(self.ids[Handoff].take(sum(p[4] for p in plans)))
        consent_ids = iter(self.ids[Consent].take(sum(p[5] for p in plans)))
        # Deadlines: one per handoff and up to two legal limits per case.
        deadline_ids = iter(self.ids[Deadline].take(sum(p[4] for p in plans) + 2 * n))
        for i, (province_id, lead, opened_at, n_actions, n_handoffs, n_consents) in enumerate(plans):
            self._case(t, case_id=case_ids[i], key_id=key_ids[i], survivor_id=survivor_ids[i],
                       incident_id=incident_ids[i], province_id=province_id, lead=lead, opened_at=opened_at,
                       action_ids=[next(action_ids) for _ in range(n_actions)],
                       handoff_ids=[next(handoff_ids) for _ in range(n_handoffs)],
                       consent_ids=[next(consent_ids) for _ in range(n_consents)], deadline_ids=deadline_ids)
        return t

    def _case(self, t: _Tables, *, case_id, key_id, survivor_id, incident_id, province_id, lead: _AgencyInfo,
              opened_at, action_ids, handoff_ids, consent_ids, deadline_ids) -> None:
        rng, now = self.rng, self.now
        kid, raw = crypto.data_key_new()
        fernet = Fernet(raw.encode())

        def seal(text: str) -> str:
            return crypto.seal(text, kid=kid, key=fernet) if text else ""

        t[CaseKey].append((key_id, kid, crypto.encrypt(raw), opened_at, None))
        opened_on = timezone.localdate(opened_at)
        sex = rng.choices((Sex.FEMALE, Sex.MALE, Sex.OTHER, Sex.UNKNOWN), (78, 15, 2, 5))[0]
        birth_year = None if rng.random() < 0.08 else opened_on.year - rng.choices(
            (rng.randint(3, 11), rng.randint(12, 17), rng.randint(18, 25), rng.randint(26, 60), rng.randint(61, 80)),
            (10, 20, 25, 40, 5))[0]
        child = birth_year is not None and max(0, opened_on.year - birth_year - 1) < 16
        phone = f"09{rng.randrange(10**8):08d}" if rng.random() < 0.7 else ""
        name = rng.choice(self.names) if rng.random() < 0.8 else ""
        address = rng.choice(self.addresses) if rng.random() < 0.5 else ""
        guardian = rng.choice(self.names) if child else ""
        t[Survivor].append((
            survivor_id, key_id, self._pseudonym(), seal(name), seal(phone), seal(address), seal(guardian),
            seal(f"09{rng.randrange(10**8):08d}") if child else "", crypto.phone_search_hash(phone), sex, birth_year,
            False, rng.choice(("none", "none", "none", "yes", "unknown")), seal(rng.choice(("", "", "Kinh", "Tày"))),
            opened_at,
        ))
        responsible = rng.choice(lead.responders)
        risk = rng.choices(_VALUES[RiskLevel], (30, 40, 22, 8))[0]
        number = self._number(province_id, opened_on.year)
        lead_id = lead.id
        self._event(t, case_id, CaseEventType.OPENED, opened_at, responsible[0], lead_id,
                    {"number": number, "risk_level": risk})
        # The incident (case_open's first).
        gbv_type = rng.choice(_VALUES[GbvType])
        occurred_on = None if rng.random() < 0.1 else opened_on - datetime.timedelta(days=rng.choice(
            (0, 1, 2, 3, 4, 5, 6, 10, 14, 15, 30, 31, 90)))
        tech = sorted(set(rng.sample(_VALUES[TechForm], rng.choice((0, 0, 0, 1, 2)))))
        t[Incident].append((
            incident_id, case_id, occurred_on, opened_on, province_id, None, gbv_type, "{}",
            rng.choice(_VALUES[PerpetratorRelationship]),
            reporting_delay_bucket(occurred_on=occurred_on, reported_on=opened_on), responsible[0], lead_id, opened_at,
        ))
        t[IncidentTechForm].extend((incident_id, form) for form in tech)
        self._event(t, case_id, CaseEventType.INCIDENT_RECORDED, opened_at, responsible[0], lead_id,
                    {"incident_id": incident_id, "gbv_type": gbv_type, "tech_forms": tech})
        updated_at = opened_at
        # Legal time limits for a child (case_legal_deadlines_start).
        legal = []
        if child:
            codes = [CHILD_SUPPORT_PLAN]
            if risk in SERIOUS_RISK_LEVELS:
                codes.insert(0, CHILD_SERIOUS_RISK)
            for code in codes:
                rule_id, due, remind, escalate = self.clock.due(code, opened_at)
                deadline = dict(id=next(deadline_ids), kind=Deadline.Kind.LEGAL_LIMIT,
                                subject=f"case:{case_id}:{code}", code=code, rule_id=rule_id, created_at=opened_at,
                                due_at=due, remind_at=remind, escalate_at=escalate, owner=lead_id,
                                owner_user=responsible[0], escalate_agency=None, closed_at=None, closed_reason="",
                                link=case_path(case_id))
                legal.append(deadline)
                self._event(t, case_id, CaseEventType.DEADLINE_STARTED, opened_at, None, lead_id,
                            self._deadline_data(deadline, lead.name))
        # Consents: recorded by the lead at opening or soon after, for the agencies handoffs go to.
        receivers = self._receivers(lead, len(handoff_ids))
        consents = []
        for k, consent_id in enumerate(consent_ids):
            at = opened_at if k == 0 else self._when(opened_at, 48)
            to = receivers[k] if k < len(receivers) else rng.choice(self.by_province[lead.province_id])
            to_sector = rng.random() < 0.2
            granted = sorted(rng.sample(CATEGORIES, rng.randint(1, 3)))
            refused = sorted(rng.sample([c for c in CATEGORIES if c not in granted], rng.choice((0, 0, 1))))
            expires = None if rng.random() < 0.7 else at + datetime.timedelta(days=rng.choice((30, 90, 365)))
            withdrawn = rng.random() < 0.05
            withdrawn_at = self._when(at, 24 * 60) if withdrawn else None
            consent = _Fact(pk=consent_id, receiving_agency_id=None if to_sector else to.id,
                            receiving_sector=to.sector if to_sector else "", granted_categories=granted,
                            refused_categories=refused, expires_at=expires, withdrawn_at=withdrawn_at,
                            recorded_at=at, agency_name="" if to_sector else to.name)
            consents.append(consent)
            given_by = ConsentGiver.SURVIVOR_AND_GUARDIAN if child else ConsentGiver.SURVIVOR
            t[Consent].append((
                consent_id, case_id, consent.receiving_agency_id, consent.receiving_sector, _json(granted),
                _json(refused), seal("Điều phối hỗ trợ"), given_by, seal("mẹ") if child else "", False, "", False,
                responsible[0], lead_id, at, expires, withdrawn_at, responsible[0] if withdrawn else None,
                seal("Người bị hại rút lại") if withdrawn else "",
            ))
            recipient = {"consent_id": consent_id, "recipient_agency": consent.agency_name,
                         "recipient_sector": consent.receiving_sector, "granted": granted}
            self._event(t, case_id, CaseEventType.CONSENT_RECORDED, at, responsible[0], lead_id,
                        recipient | {"refused": refused, "override": False})
            if withdrawn:
                self._event(t, case_id, CaseEventType.CONSENT_WITHDRAWN, withdrawn_at, responsible[0], lead_id,
                            recipient)
            updated_at = max(updated_at, withdrawn_at or at)
        # Handoffs, in the order sent; a transfer, if any, is the last.
        handoffs = []
        current_lead, current_responsible = lead, responsible
        sent_at = opened_at
        for k, handoff_id in enumerate(handoff_ids):
            to = receivers[k]
            consent = next((c for c in consents if c.receiving_agency_id == to.id or c.receiving_sector == to.sector),
                           None)
            override = consent is None or rng.random() < 0.03
            wanted = consent.granted_categories if consent and not override else rng.sample(CATEGORIES, 1)
            categories = sorted(rng.sample(wanted, rng.randint(1, len(wanted))))
            kind = HandoffKind.TRANSFER if k == len(handoff_ids) - 1 and rng.random() < 0.15 else HandoffKind.REFERRAL
            urgency = rng.choices(_VALUES[Urgency], (5, 25, 70))[0]
            sent_at = self._when(sent_at, 72)
            sender = rng.choice(current_lead.responders)
            rule_id, due, remind, escalate = self.clock.due(handoff_response_rule_code(urgency=urgency), sent_at)
            answered_by = rng.choice(to.responders)
            age_hours = (now - sent_at).total_seconds() / 3600
            status = HandoffStatus.SENT if age_hours < 2 else rng.choices(
                _VALUES[HandoffStatus], (8, 45, 15, 10, 22 if kind == HandoffKind.REFERRAL else 0))[0]
            if kind == HandoffKind.TRANSFER and status == HandoffStatus.WITHDRAWN:
                status = HandoffStatus.SENT
            h = _Fact(pk=handoff_id, kind=kind, status=status, from_agency_id=current_lead.id, to_agency_id=to.id,
                      categories=categories, emergency_override=override, sent_at=sent_at)
            responded_at = self._when(sent_at, max(0.2, min(age_hours, 96))) if status != HandoffStatus.SENT else None
            row = dict(viewed_at=None, viewed_by=None, responded_at=None, responded_by=None, decline_reason="",
                       decline_reason_key=None, completed_at=None, outcome="", closed_by=None, withdrawn_at=None,
                       withdraw_reason="")
            services = [rng.choice(_VALUES[HandoffService])]
            self._event(t, case_id, CaseEventType.HANDOFF_SENT, sent_at, sender[0], current_lead.id,
                        {"handoff_id": handoff_id, "kind": kind, "to_agency": to.name, "urgency": urgency,
                         "services": services, "categories": categories})
            self._audit(t, sent_at, sender, current_lead.id, AuditAction.CREATE, case_id, categories,
                        f"handoff:{handoff_id}", {"to_agency_id": to.id, "kind": kind, "urgency": urgency})
            if override:
                t[AuditEvent].insert(len(t[AuditEvent]) - 1, (sent_at, sender[0], sender[1], current_lead.id,
                                                              AuditAction.CONSENT_OVERRIDE, case_id, _json(categories),
                                                              f"handoff:{handoff_id}", None, "", "", "{}"))
            closed_reason = ""
            last = sent_at
            if status in (HandoffStatus.ACCEPTED, HandoffStatus.COMPLETED, HandoffStatus.DECLINED):
                row.update(viewed_at=responded_at, viewed_by=answered_by[0], responded_at=responded_at,
                           responded_by=answered_by[0])
                if status == HandoffStatus.DECLINED:
                    row["decline_reason"] = seal(DECLINE_REASON)
                    row["decline_reason_key"] = crypto.reason_key(DECLINE_REASON)  # as handoff_decline writes it
                    closed_reason = "declined"
                    self._event(t, case_id, CaseEventType.HANDOFF_DECLINED, responded_at, answered_by[0], to.id,
                                {"handoff_id": handoff_id, "kind": kind})
                else:
                    closed_reason = "accepted"
                    if kind == HandoffKind.TRANSFER:
                        self._event(t, case_id, CaseEventType.LEAD_TRANSFERRED, responded_at, answered_by[0], to.id,
                                    {"handoff_id": handoff_id, "kind": kind, "from_agency": current_lead.name,
                                     "to_agency": to.name})
                    self._event(t, case_id, CaseEventType.HANDOFF_ACCEPTED, responded_at, answered_by[0], to.id,
                                {"handoff_id": handoff_id, "kind": kind})
                    self._audit(t, responded_at, answered_by, to.id, AuditAction.SHARE, case_id, categories,
                                f"handoff:{handoff_id}", {"kind": kind})
                    if kind == HandoffKind.TRANSFER:
                        current_lead, current_responsible = to, answered_by
                last = responded_at
                if status == HandoffStatus.COMPLETED:
                    done = self._when(responded_at, 24 * 20)
                    row.update(completed_at=done, outcome=seal("Đã hoàn thành dịch vụ"), closed_by=answered_by[0])
                    self._event(t, case_id, CaseEventType.HANDOFF_COMPLETED, done, answered_by[0], to.id,
                                {"handoff_id": handoff_id, "kind": kind})
                    last = done
            elif status == HandoffStatus.WITHDRAWN:
                row.update(withdrawn_at=responded_at, withdraw_reason=seal("Không còn cần"), closed_by=sender[0])
                closed_reason = "withdrawn"
                self._event(t, case_id, CaseEventType.HANDOFF_WITHDRAWN, responded_at, sender[0], h.from_agency_id,
                            {"handoff_id": handoff_id, "kind": kind})
                last = responded_at
            updated_at = max(updated_at, last)
            handoffs.append(h)
            t[Handoff].append((
                handoff_id, case_id, kind, h.from_agency_id, to.id, _json(services), urgency,
                _json(categories), seal("Đề nghị hỗ trợ"), override,
                seal("Nguy hiểm đến tính mạng") if override else "",
                status, None, sender[0], sent_at, due, row["viewed_at"], row["viewed_by"], row["responded_at"],
                row["responded_by"], row["decline_reason"], row["decline_reason_key"], row["completed_at"],
                row["outcome"], row["closed_by"], row["withdrawn_at"], row["withdraw_reason"],
            ))
            deadline_closed_at = responded_at if closed_reason else None
            t[Deadline].append(self._deadline_row(
                dict(id=next(deadline_ids), kind=Deadline.Kind.HANDOFF_RESPONSE, subject=f"handoff:{handoff_id}",
                     rule_id=rule_id, created_at=sent_at, due_at=due, remind_at=remind, escalate_at=escalate,
                     owner=to.id, owner_user=None, escalate_agency=h.from_agency_id, closed_at=deadline_closed_at,
                     closed_reason=closed_reason, link=handoff_path(handoff_id)), case_id, number))
        # Actions, by the lead's responders; legal limits close when an action does their thing.
        occurred = opened_at
        for action_id in action_ids:
            occurred = self._when(occurred, 24 * 7)
            action_type = rng.choice(ACTION_TYPES)
            actor = rng.choice(current_lead.responders)
            category = ACTION_CATEGORY.get(action_type, GENERAL)
            t[Action].append((action_id, case_id, action_type, category, occurred, seal("Ghi chú công việc"),
                              actor[0], current_lead.id, occurred))
            self._event(t, case_id, CaseEventType.ACTION_LOGGED, occurred, actor[0], current_lead.id,
                        {"action_type": action_type}, category=category, action_id=action_id)
            for deadline in legal:
                if deadline["closed_at"] is None and action_type in LEGAL_LIMIT_DONE_BY[deadline["code"]]:
                    deadline.update(closed_at=occurred, closed_reason=f"action:{action_id}")
                    met = {"reason": DeadlineClosure.MET_BY_ACTION.value, "action_id": action_id}
                    self._event(t, case_id, CaseEventType.DEADLINE_CLOSED, occurred, actor[0], current_lead.id,
                                self._deadline_data(deadline, lead.name) | met)
            updated_at = max(updated_at, occurred)
        # Status: most older cases are closed, some reopened.
        status, closed_at, close_reason = CaseStatus.OPEN, None, ""
        age_days = (now - opened_at).days
        if n_actions := len(action_ids):
            status = CaseStatus.ACTIVE
            at = self._when(opened_at, 1)
            self._event(t, case_id, CaseEventType.STATUS_CHANGED, at, current_responsible[0], current_lead.id,
                        {"from": CaseStatus.OPEN, "to": CaseStatus.ACTIVE})
        waiting = any(h.status == HandoffStatus.SENT for h in handoffs)
        if age_days > 60 and n_actions and rng.random() < 0.6 and not waiting:
            closed_at = self._when(updated_at, 24 * 30)
            self._event(t, case_id, CaseEventType.STATUS_CHANGED, closed_at, current_responsible[0], current_lead.id,
                        {"from": status, "to": CaseStatus.CLOSED})
            status, close_reason = CaseStatus.CLOSED, seal("Đã hoàn tất hỗ trợ")
            for deadline in legal:
                if deadline["closed_at"] is None:
                    deadline.update(closed_at=closed_at, closed_reason="case closed")
                    self._event(t, case_id, CaseEventType.DEADLINE_CLOSED, closed_at, current_responsible[0],
                                current_lead.id, self._deadline_data(deadline, lead.name)
                                | {"reason": DeadlineClosure.CASE_CLOSED.value, "action_id": None})
            updated_at = closed_at
            if rng.random() < 0.05:
                reopened = self._when(closed_at, 24 * 10)
                self._event(t, case_id, CaseEventType.STATUS_CHANGED, reopened, current_responsible[0],
                            current_lead.id, {"from": CaseStatus.CLOSED, "to": CaseStatus.REOPENED})
                status, closed_at, updated_at = CaseStatus.REOPENED, None, reopened
                # case_change_status keeps closed_at of the last closing only while closed.
        for deadline in legal:
            if deadline["closed_at"] is None:
                stage, _next = _stage(deadline["remind_at"], deadline["due_at"], deadline["escalate_at"], now)
                if stage in (Deadline.Stage.OVERDUE, Deadline.Stage.ESCALATED):
                    self._event(t, case_id, CaseEventType.DEADLINE_OVERDUE, deadline["due_at"], None, None,
                                self._deadline_data(deadline, lead.name))
                if stage == Deadline.Stage.ESCALATED:
                    self._event(t, case_id, CaseEventType.DEADLINE_ESCALATED, deadline["escalate_at"], None, None,
                                self._deadline_data(deadline, lead.name))
            t[Deadline].append(self._deadline_row(deadline, case_id, number))
        t[Case].append((case_id, number, province_id, survivor_id, status, current_lead.id, current_responsible[0],
                        risk, rng.random() < 0.93, opened_at, updated_at, closed_at, key_id, None, close_reason))
        entered = ["identity"] if name else []
        if phone or address:
            entered.append("contact")
        self._audit(t, opened_at, responsible, lead_id, AuditAction.CREATE, case_id, entered, f"case:{case_id}",
                    {"number": number, "opened_at": opened_at.isoformat()})
        # The access rows, as case_permissions_sync derives them now.
        in_force = [c for c in consents if c.withdrawn_at is None and (c.expires_at is None or c.expires_at > now)]
        grants = case_grants_from_rows(
            lead_agency_id=current_lead.id, lead_sector=current_lead.sector, consents=in_force,
            shares=handoff_shares(handoffs), active_sectors=self.sectors)
        # What the case list and case reads use (cases.models.CaseAccessRow), as
        # permissions.services.access_rows_replace writes them; no break-glass use is seeded.
        t[CaseAccessRow].extend((case_id, *key, updated_at) for key in sorted(
            access_keys(agency_grants=grants, user_grants={}), key=str))

    def _receivers(self, lead: _AgencyInfo, n: int) -> list[_AgencyInfo]:
        others = [a for a in self.by_province[lead.province_id] if a.id != lead.id]
        weights = [w for a, w in zip(self.by_province[lead.province_id], self.agency_weights[lead.province_id],
                                     strict=True) if a.id != lead.id]
        chosen: list[_AgencyInfo] = []
        while len(chosen) < n:
            agency = self.rng.choices(others, weights)[0]
            if agency not in chosen:
                chosen.append(agency)
        return chosen

    @staticmethod
    def _deadline_data(deadline: dict, owner_name: str) -> dict:
        return {"deadline_id": deadline["id"], "kind": deadline["kind"], "rule": deadline["code"],
                "due_at": deadline["due_at"].isoformat(), "owner_agency": owner_name}

    def _deadline_row(self, d: dict, case_id: int, number: str) -> tuple:
        if d["closed_at"] is not None:
            stage, next_fire = Deadline.Stage.CLOSED, None
        else:
            stage, next_fire = _stage(d["remind_at"], d["due_at"], d["escalate_at"], self.now)
        return (d["id"], d["kind"], d["subject"], case_id, number, d["link"], d["owner"], d["owner_user"],
                d["escalate_agency"], d["rule_id"], d["created_at"], d["due_at"], d["remind_at"], d["escalate_at"],
                stage, next_fire, d["closed_at"], d["closed_reason"][:100])


def _audit_write(rows: list[tuple]) -> int:
    """The audit events, chained as they are written: under the chain lock, from the chain's head,
    hashed by audit.chain as the chainer (audit_chain_pending) hashes them. One lock per chunk, where
    the chainer would update every row again after the insert."""
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    head = (AuditEvent.objects.filter(position__isnull=False).order_by("-position")
            .values_list("position", "hash").first())
    position, prev_hash = head if head else (0, GENESIS_HASH)
    seqs = _Ids(AuditEvent).take(len(rows))
    chained = []
    for seq, row in zip(seqs, rows, strict=True):
        values = dict(zip(COLUMNS[AuditEvent], row, strict=True))
        values.update(seq=seq, categories=json.loads(values["categories"]), details=json.loads(values["details"]))
        position += 1
        digest = event_hash(values=values, prev_hash=prev_hash)
        chained.append((seq, *row, position, prev_hash, digest))
        prev_hash = digest
    return rows_write(AuditEvent, ["seq", *COLUMNS[AuditEvent], "position", "prev_hash", "hash"], chained)


def _write(t: _Tables, report: ScaleReport) -> None:
    for model, columns in COLUMNS.items():
        if model is not AuditEvent:
            report.rows[model._meta.label] += rows_write(model, columns, t[model])
    # Last, as the services write it: the chain lock is held until the commit.
    report.rows[AuditEvent._meta.label] += _audit_write(t[AuditEvent])


def _sequences_save(world: ScaleWorld) -> None:
    existing = {(s.province_id, s.year): s for s in CaseNumberSequence.objects.all()}
    changed, new = [], []
    for (province_id, year), last in world.sequences.items():
        row = existing.get((province_id, year))
        if row is None:
            new.append(CaseNumberSequence(province_id=province_id, year=year, last=last))
        elif row.last != last:
            row.last = last
            changed.append(row)
    CaseNumberSequence.objects.bulk_create(new)
    CaseNumberSequence.objects.bulk_update(changed, ["last"])


def seed_scale(*, cases: int, provinces: int = 34, seed: int = 1, agencies_per_province: int = 60,
               responders_per_agency: int = 4, months: int = 24,
               progress: Callable[[str], None] | None = None, now: datetime.datetime | None = None) -> ScaleReport:
    """Add `cases` cases to the national scale world (its agencies and people are made on the first
    run and reused after). Deterministic for a given seed and database state, except the keys."""
    if cases < 1:
        raise SeedScaleError("--cases must be at least 1.")
    if not 1 <= provinces <= 34:
        raise SeedScaleError("--provinces must be between 1 and 34.")
    if agencies_per_province < 2:
        raise SeedScaleError("--agencies-per-province must be at least 2 (handoffs need a second agency).")
    if responders_per_agency < 1:
        raise SeedScaleError("--responders must be at least 1.")
    if not 1 <= months <= MONTHS_MAX:
        raise SeedScaleError(f"--months must be between 1 and {MONTHS_MAX}.")
    started = time.monotonic()
    report = ScaleReport()
    say = progress or (lambda _text: None)
    with transaction.atomic():
        province_load_reference()
        chosen = list(Province.objects.order_by("code")[:provinces])
        agencies = _agencies_ensure(chosen, agencies_per_province, report)
        _people_ensure(agencies, chosen, responders_per_agency, report)
    say(f"{len(agencies)} agencies ({report.agencies} new), {report.users} new users")
    world = ScaleWorld(rng=random.Random(seed), agencies=agencies, now=now or timezone.now(), months=months)
    done = 0
    analyze_at = ANALYZE_FIRST
    cases_started = time.monotonic()
    while done < cases:
        n = min(CHUNK, cases - done)
        tables = world.chunk(n)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # A bulk load that can be run again: no need to wait for the disk at each commit.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            _write(tables, report)
            # With the chunk's cases: a run cut short leaves no case numbered past its sequence.
            _sequences_save(world)
        done += n
        if done >= analyze_at and done < cases:
            _statistics_refresh()
            analyze_at *= 2
        elapsed = time.monotonic() - cases_started
        say(f"{done}/{cases} cases, {done / elapsed:.0f} cases/s")
    report.cases = cases
    report.case_seconds = time.monotonic() - cases_started
    report.seconds = time.monotonic() - started
    _statistics_refresh()
    return report


def _statistics_refresh() -> None:
    """ANALYZE on PostgreSQL. Also during the load, each time the seeded cases double: the
    supervision triggers' statement-level queries join each chunk's handoffs against tables that grow
    with the world, and plans made on the statistics of an empty table read the whole table again
    for every chunk. Without these refreshes a 1M-case seed slowed to 40-110 cases/s past 950,000, its
    backend busy in the handoffs' COPY; with them one ran at 590 cases/s from 880,000 to 1,000,000
    (README, "What changed on 7 December, 06:00-09:00 UTC"; two machines, so not a clean A/B).
    Doubling keeps the statistics within a factor of two of the tables for about twice the cost of
    the final ANALYZE."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def scale_agencies(*, province_ids: Iterable[int] | None = None):
    """The agencies the seeder made."""
    qs = Agency.objects.filter(name__startswith=f"{AGENCY_PREFIX} ")
    return qs.filter(province_id__in=list(province_ids)) if province_ids is not None else qs
