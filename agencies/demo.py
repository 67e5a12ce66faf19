"""A deterministic synthetic world for trying HopLuc and for browser tests: every province, a few
synthetic communes, one agency per sector in three provinces, and demo users in every role.

Names come from Faker's vi_VN locale with fixed seeds; nothing here is a real person. Seeding is a
list of steps run in order on one `DemoWorld`; other apps append their own steps (cases, handoffs,
deadlines) with `demo_step_register` from their AppConfig.ready(), so agencies never imports them.
"""

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from faker import Faker

from .models import Agency, AnalystScope, Commune, Province, Role, Sector
from .services import agency_create, agency_groups_ensure, membership_add, province_load_reference

DEMO_PASSWORD = "hopluc-demo-2026"  # noqa: S105 - published on purpose: demo logins only
DEMO_EMAIL_DOMAIN = "demo.hopluc.invalid"
DEMO_VALID_FROM = "2025-07-01"
FAKER_SEED = 2026
COMMUNES_PER_PROVINCE = 8

# Username prefix → province code in the reference file.
DEMO_PROVINCES = {"hn": "01", "hue": "46", "hcm": "79"}
STAFFED_SECTORS = (Sector.POLICE, Sector.HEALTH, Sector.EDUCATION, Sector.SOCIAL_WORK)
AGENCY_NAMES = {
    Sector.POLICE: "Công an {province}",
    Sector.HEALTH: "Bệnh viện Đa khoa {province}",
    Sector.EDUCATION: "Sở Giáo dục và Đào tạo {province}",
    Sector.SOCIAL_WORK: "Trung tâm Công tác xã hội {province}",
    Sector.WOMENS_UNION: "Hội Liên hiệp Phụ nữ {province}",
    Sector.HOTLINE: "Tổng đài Bảo vệ trẻ em {province}",
    Sector.LEGAL_AID: "Trung tâm Trợ giúp pháp lý {province}",
    Sector.SHELTER: "Nhà tạm lánh {province}",
    Sector.NGO: "Mạng lưới Hỗ trợ Phụ nữ và Trẻ em {province}",
    Sector.OTHER: "Ủy ban nhân dân {province}",
}
# (username, [(province key, sector, role)]): a social worker seconded to the child-protection hotline,
# and a doctor who also supervises a shelter.
MULTI_AGENCY_PEOPLE = (
    ("hn.social_work.hotline", (("hn", Sector.SOCIAL_WORK, Role.RESPONDER), ("hn", Sector.HOTLINE, Role.RESPONDER))),
    ("hcm.health.shelter", (("hcm", Sector.HEALTH, Role.RESPONDER), ("hcm", Sector.SHELTER, Role.SUPERVISOR))),
)
MIDDLE_NAMES = {"female": ("Thị", "Ngọc", "Thu", "Thanh", "Minh"), "male": ("Văn", "Đức", "Minh", "Quang", "Hữu")}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str  # a Role value, "analyst" or "superuser"
    where: str  # the agency, or the analyst's scope (empty for national)


@dataclass
class DemoWorld:
    provinces: dict[str, Province] = field(default_factory=dict)
    communes: dict[str, list[Commune]] = field(default_factory=dict)
    agencies: dict[tuple[str, str], Agency] = field(default_factory=dict)
    users: dict[str, object] = field(default_factory=dict)
    logins: list[DemoLogin] = field(default_factory=list)
    created_usernames: list[str] = field(default_factory=list)
    # Hashed once per run: the password hasher is deliberately slow.
    password_hash: str = ""


DemoStep = Callable[[DemoWorld], None]
_registered_steps: list[DemoStep] = []
# Steps that read what every other step made (the monthly reports count the demo's cases, risk
# assessments and case meetings), run after all the others.
_last_steps: list[DemoStep] = []


def demo_step_register(step: DemoStep, *, first: bool = False, last: bool = False) -> DemoStep:
    """Run `step(world)` after the built-in steps of every seed_demo_world() (`first`: before the
    other registered steps; `last`: after all of them). Idempotent."""
    if step not in _registered_steps and step not in _last_steps:
        if last:
            _last_steps.append(step)
        elif first:
            _registered_steps.insert(0, step)
        else:
            _registered_steps.append(step)
    return step


def _faker(seed_text: str) -> Faker:
    fake = Faker("vi_VN")
    # crc32 rather than hash(): Python salts str hashes per process.
    fake.seed_instance(FAKER_SEED + zlib.crc32(seed_text.encode()))
    return fake


def demo_full_name(*, username: str) -> str:
    """A synthetic Vietnamese name, family name first, the same for a username on every run."""
    fake = _faker(username)
    sex = fake.random_element(("female", "male"))
    given = fake.first_name_female() if sex == "female" else fake.first_name_male()
    return f"{fake.last_name()} {fake.random_element(MIDDLE_NAMES[sex])} {given}"


def seed_reference(world: DemoWorld) -> None:
    province_load_reference()
    by_code = {province.code: province for province in Province.objects.filter(code__in=DEMO_PROVINCES.values())}
    world.provinces = {key: by_code[code] for key, code in DEMO_PROVINCES.items()}


def demo_commune_names(*, province_code: str) -> list[str]:
    """Synthetic commune and ward names for a province, distinct and the same on every run."""
    fake = _faker(f"communes:{province_code}")
    names: list[str] = []
    while len(names) < COMMUNES_PER_PROVINCE:
        name = f"{fake.commune_prefix().capitalize()} {fake.commune_name()}"
        if name not in names:
            names.append(name)
    return names


def seed_communes(world: DemoWorld) -> None:
    for key, province in world.provinces.items():
        communes = []
        for index, name in enumerate(demo_commune_names(province_code=province.code), start=1):
            # "DEMO…" codes cannot collide with the official five-digit commune codes.
            commune, _ = Commune.objects.get_or_create(
                code=f"DEMO{province.code}{index:02d}", valid_from=DEMO_VALID_FROM,
                defaults={"name": name, "province": province},
            )
            communes.append(commune)
        world.communes[key] = communes


def seed_agencies(world: DemoWorld) -> None:
    for key, province in world.provinces.items():
        for sector in Sector:
            name = AGENCY_NAMES[sector].format(province=province.name)
            agency = Agency.objects.filter(province=province, name=name).first()
            if agency is None:
                agency = agency_create(name=name, sector=sector, province=province)
            else:
                agency_groups_ensure(agency=agency)
            world.agencies[(key, sector.value)] = agency


def _demo_user(world: DemoWorld, username: str, *, superuser: bool = False):
    """Create the user on the first run; later runs leave an existing account exactly as it is,
    including a password its owner may have changed."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        if not world.password_hash:
            world.password_hash = make_password(DEMO_PASSWORD)
        user = User.objects.create(
            username=username, first_name=demo_full_name(username=username), last_name="",
            email=f"{username}@{DEMO_EMAIL_DOMAIN}", password=world.password_hash,
            is_staff=superuser, is_superuser=superuser,
        )
        world.created_usernames.append(username)
    world.users[username] = user
    return user


def seed_users(world: DemoWorld) -> None:
    for key in DEMO_PROVINCES:
        for sector in STAFFED_SECTORS:
            agency = world.agencies[(key, sector.value)]
            for role in (Role.RESPONDER, Role.SUPERVISOR):
                username = f"{key}.{sector.value}.{role.value}"
                membership_add(user=_demo_user(world, username), agency=agency, role=role)
                world.logins.append(DemoLogin(username, role.value, agency.name))
        admin_agency = world.agencies[(key, Sector.SOCIAL_WORK.value)]
        membership_add(user=_demo_user(world, f"{key}.admin"), agency=admin_agency, role=Role.AGENCY_ADMIN)
        world.logins.append(DemoLogin(f"{key}.admin", Role.AGENCY_ADMIN.value, admin_agency.name))

    # People of two agencies: they read what both agencies may see and act for one at a time,
    # chosen in the header's switcher or the API's X-Acting-Agency header (agencies.acting).
    for username, memberships in MULTI_AGENCY_PEOPLE:
        user = _demo_user(world, username)
        for key, sector, role in memberships:
            agency = world.agencies[(key, sector.value)]
            membership_add(user=user, agency=agency, role=role)
            world.logins.append(DemoLogin(username, role.value, agency.name))

    for username, province in (("analyst.national", None), ("analyst.hn", world.provinces["hn"])):
        AnalystScope.objects.get_or_create(user=_demo_user(world, username), province=province)
        world.logins.append(DemoLogin(username, "analyst", province.name if province else ""))

    _demo_user(world, "sysadmin", superuser=True)
    world.logins.append(DemoLogin("sysadmin", "superuser", ""))


BUILT_IN_STEPS: tuple[DemoStep, ...] = (seed_reference, seed_communes, seed_agencies, seed_users)


def seed_demo_world(*, steps: tuple[DemoStep, ...] | None = None) -> DemoWorld:
    """Build (or complete) the demo world; safe to run again. `steps` defaults to the built-in steps
    followed by every registered one."""
    world = DemoWorld()
    with transaction.atomic():
        for step in steps if steps is not None else BUILT_IN_STEPS + tuple(_registered_steps) + tuple(_last_steps):
            step(world)
    return world
