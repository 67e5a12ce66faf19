"""Each role lands on its home page after sign-in, and each home page is closed to everyone else."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.services import agency_create, membership_add
from tests.conftest import PASSWORD, make_user, sign_in

HOMES = {
    "responder": "/work/",
    "supervisor": "/supervision/",
    "agency_admin": "/staff/",
    "analyst": "/reports/",
}

LANDING = [
    ("lead_responder", "/work/"),
    ("receiving_responder", "/work/"),
    ("lead_supervisor", "/supervision/"),
    ("lead_admin", "/staff/"),
    ("analyst", "/reports/"),
    ("province_analyst", "/reports/"),
    ("sysadmin", "/admin/"),
]


@pytest.mark.parametrize("username, home", LANDING)
def test_each_role_lands_on_its_home_page(client, world, username, home):
    response = sign_in(client, username)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == home


# Which of the world's users hold which role: everyone else must be refused.
HOLDERS = {
    "responder": {"lead_responder", "receiving_responder", "outsider_responder"},
    "supervisor": {"lead_supervisor", "receiving_supervisor", "outsider_supervisor"},
    "agency_admin": {"lead_admin"},
    "analyst": {"analyst", "province_analyst"},
}
EVERYONE = sorted(set().union(*HOLDERS.values()) | {"sysadmin"})


@pytest.mark.parametrize("role", sorted(HOMES))
def test_home_page_refuses_every_other_role(client, world, role):
    for username in EVERYONE:
        client.force_login(getattr(world, username))
        response = client.get(HOMES[role])
        expected = 200 if username in HOLDERS[role] else 403
        assert response.status_code == expected, (username, role)
        if expected == 403:
            assert f'data-testid="home-{role}"' not in response.content.decode()


@pytest.mark.parametrize("path", [*HOMES.values(), "/"])
def test_home_pages_send_anonymous_to_login_with_next(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_membership_of_a_deactivated_agency_opens_no_home(client, world):
    world.police.active = False
    world.police.save()
    client.force_login(world.lead_responder)
    assert client.get("/work/").status_code == 403
    assert client.get("/").templates[0].name == "accounts/no_role.html"


def test_user_without_any_role_sees_how_to_get_one(client, db):
    client.force_login(make_user("newcomer"))
    response = client.get("/")
    assert response.status_code == 200
    assert "Tài khoản của bạn chưa có vai trò" in response.content.decode()
    for path in HOMES.values():
        assert client.get(path).status_code == 403


def test_staff_without_membership_goes_to_admin_but_cannot_open_role_pages(client, db):
    staff = get_user_model().objects.create_user("staffer", password=PASSWORD, is_staff=True)
    client.force_login(staff)
    assert client.get("/")["Location"] == "/admin/"
    for path in HOMES.values():
        assert client.get(path).status_code == 403


def test_responder_home_shows_agency_and_sections_in_vietnamese(client, world):
    client.force_login(world.lead_responder)
    body = client.get("/work/").content.decode()
    assert "Công an phường Ba Đình" in body
    assert "Hồ sơ của tôi" in body
    # Only the agencies where the user is a responder.
    assert "Bệnh viện Đa khoa Hà Nội" not in body


def test_analyst_home_shows_scope(client, world):
    client.force_login(world.province_analyst)
    assert "Hà Nội" in client.get("/reports/").content.decode()
    client.force_login(world.analyst)
    assert "Toàn quốc" in client.get("/reports/").content.decode()


def test_user_with_two_roles_can_switch_between_home_pages(client, world):
    membership_add(user=world.lead_responder, agency=world.health, role="supervisor")
    client.force_login(world.lead_responder)
    assert client.get("/")["Location"] == "/supervision/"
    body = client.get("/supervision/").content.decode()
    assert 'href="/work/"' in body
    assert 'href="/supervision/" aria-current="page"' in body
    assert client.get("/work/").status_code == 200


def test_single_role_user_gets_no_role_switch(client, world):
    client.force_login(world.lead_responder)
    assert 'href="/supervision/"' not in client.get("/work/").content.decode()


def _count_queries(client, path) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


@pytest.mark.parametrize("path, role", [("/work/", "responder"), ("/supervision/", "supervisor")])
def test_home_page_queries_do_not_grow_with_memberships(client, world, path, role):
    user = make_user("busy")
    membership_add(user=user, agency=world.police, role=role)
    client.force_login(user)
    client.get(path)
    one = _count_queries(client, path)
    for index in range(3):
        agency = agency_create(name=f"Đơn vị {index}", sector="health", province=world.hanoi)
        membership_add(user=user, agency=agency, role=role)
    client.get(path)  # a role change re-reads the navigation's roles once, on the next request
    four = _count_queries(client, path)
    assert len(four) == len(one), "\n".join(four)
