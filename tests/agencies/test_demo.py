"""seed_demo: a deterministic synthetic world that other engineers' tests and the browser rely on."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from agencies import demo
from agencies.models import Agency, AnalystScope, Commune, Membership, Province, Role, Sector
from agencies.services import agency_group_name

# The demo world's agencies and people; its cases and reports are tested at full size elsewhere.
pytestmark = pytest.mark.usefixtures("english", "seed_demo_small")

EXPECTED_USERNAMES = (
    [f"{p}.{s}.{r}" for p in ("hn", "hue", "hcm") for s in ("police", "health", "education", "social_work")
     for r in ("responder", "supervisor")]
    + ["hn.admin", "hue.admin", "hcm.admin", "analyst.national", "analyst.hn", "sysadmin"]
    + ["hn.social_work.hotline", "hcm.health.shelter"]
)


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "provinces": Province.objects.count(),
        "communes": Commune.objects.count(),
        "agencies": Agency.objects.count(),
        "groups": Group.objects.count(),
        "users": get_user_model().objects.count(),
        "memberships": Membership.objects.count(),
        "scopes": AnalystScope.objects.count(),
    }


def test_seed_demo_twice_gives_the_same_world_and_prints_the_logins(db):
    first = seed()
    after_first = counts()
    assert after_first == {
        "provinces": 34, "communes": 24, "agencies": 30, "groups": 90, "users": 32, "memberships": 31, "scopes": 2,
    }
    second = seed()
    assert counts() == after_first
    assert "32 accounts created; 0 already existed" in first
    assert "0 accounts created; 32 already existed" in second
    for output in (first, second):
        assert demo.DEMO_PASSWORD in output
        lines = output.splitlines()
        for username in EXPECTED_USERNAMES:
            assert any(line.split()[0] == username for line in lines if line.strip()), username
    assert any(line.split()[:2] == ["hn.admin", "Agency"] and "Trung tâm Công tác xã hội Hà Nội" in line
               for line in first.splitlines())


def test_the_demo_users_have_their_roles_and_can_sign_in(client, db):
    seed()
    User = get_user_model()
    assert sorted(User.objects.values_list("username", flat=True)) == sorted(EXPECTED_USERNAMES)
    hue_police = Agency.objects.get(province__code="46", sector=Sector.POLICE)
    supervisor = User.objects.get(username="hue.police.supervisor")
    assert set(supervisor.groups.values_list("name", flat=True)) == {
        agency_group_name(agency=hue_police, role=Role.SUPERVISOR)
    }
    admin = Membership.objects.get(user__username="hcm.admin")
    assert (admin.role, admin.agency.sector, admin.agency.province.abbreviation) == (
        Role.AGENCY_ADMIN, Sector.SOCIAL_WORK, "HCM"
    )
    for username, agencies in [("hn.social_work.hotline", {("HN", Sector.SOCIAL_WORK, Role.RESPONDER),
                                                            ("HN", Sector.HOTLINE, Role.RESPONDER)}),
                               ("hcm.health.shelter", {("HCM", Sector.HEALTH, Role.RESPONDER),
                                                       ("HCM", Sector.SHELTER, Role.SUPERVISOR)})]:
        held = Membership.objects.filter(user__username=username)
        assert {(m.agency.province.abbreviation, m.agency.sector, m.role) for m in held} == agencies
    assert AnalystScope.objects.get(user__username="analyst.national").province is None
    assert AnalystScope.objects.get(user__username="analyst.hn").province.abbreviation == "HN"
    assert not Membership.objects.filter(user__username__startswith="analyst").exists()
    sysadmin = User.objects.get(username="sysadmin")
    assert sysadmin.is_superuser and sysadmin.is_staff
    assert not User.objects.filter(is_superuser=True).exclude(username="sysadmin").exists()
    for username in EXPECTED_USERNAMES:
        assert client.login(username=username, password=demo.DEMO_PASSWORD), username
    # Agencies exist for every sector in each of the three provinces, and nowhere else.
    assert set(Agency.objects.values_list("province__abbreviation", flat=True)) == {"HN", "HUE", "HCM"}
    assert Agency.objects.filter(province__abbreviation="HUE").count() == len(Sector)


def test_the_world_is_deterministic(db):
    seed()
    User = get_user_model()
    names = dict(User.objects.values_list("username", "first_name"))
    assert all(len(name.split()) >= 3 for name in names.values())
    assert len(set(names.values())) > 20
    # Names are a pure function of fixed seeds: recomputing them, in another order and after other
    # uses of Faker, gives what was stored.
    for username in reversed(EXPECTED_USERNAMES):
        assert demo.demo_full_name(username=username) == names[username]
    communes = Commune.objects.order_by("code")
    for code in ("01", "46", "79"):
        stored = [c.name for c in communes if c.province.code == code]
        assert stored == demo.demo_commune_names(province_code=code)
        assert len(set(stored)) == 8
    assert {c.code[:6] for c in communes} == {"DEMO01", "DEMO46", "DEMO79"}


def test_a_changed_password_is_never_reset(db):
    seed()
    user = get_user_model().objects.get(username="hn.police.responder")
    user.set_password("my own secret phrase")
    user.save()
    seed()
    user.refresh_from_db()
    assert user.check_password("my own secret phrase")
    assert not user.check_password(demo.DEMO_PASSWORD)


def test_seed_demo_fits_next_to_existing_data(world):
    # The shared test world already holds Hà Nội and Huế; seeding updates them in place.
    hanoi_pk = world.hanoi.pk
    seed()
    assert Province.objects.get(abbreviation="HN").pk == hanoi_pk
    assert Province.objects.count() == 34


def test_registered_steps_run_after_the_built_in_ones_in_the_same_transaction(db, monkeypatch):
    monkeypatch.setattr(demo, "_registered_steps", [])
    monkeypatch.setattr(demo, "_last_steps", [])
    seen = []

    @demo.demo_step_register
    def record(world):
        seen.append((len(world.agencies), sorted(world.provinces), world.users["hn.admin"].username))

    demo.demo_step_register(record)
    demo.seed_demo_world()
    assert seen == [(30, ["hcm", "hn", "hue"], "hn.admin")]

    def broken(world):
        raise RuntimeError("step failed")

    Membership.objects.all().delete()
    demo.demo_step_register(broken)
    with pytest.raises(RuntimeError):
        demo.seed_demo_world()
    assert not Membership.objects.exists()


def test_seed_demo_refuses_production_settings_unless_told(db, settings):
    settings.SETTINGS_MODULE = "config.settings.production"
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", stdout=StringIO())
    assert get_user_model().objects.count() == 0
    call_command("seed_demo", "--allow-production", stdout=StringIO())
    assert get_user_model().objects.count() == 32


def test_a_step_registered_last_runs_after_every_other_step(db, monkeypatch):
    monkeypatch.setattr(demo, "_registered_steps", [])
    monkeypatch.setattr(demo, "_last_steps", [])
    order = []
    demo.demo_step_register(lambda world: order.append("reports"), last=True)
    demo.demo_step_register(lambda world: order.append("meetings"))
    demo.demo_step_register(lambda world: order.append("cases"), first=True)
    demo.seed_demo_world()
    assert order == ["cases", "meetings", "reports"]
