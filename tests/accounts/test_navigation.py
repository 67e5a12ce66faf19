"""Issue 16, part 4: a permanent navigation bar for every role, single-role people included, drawn
from the roles read at sign-in (no query per page); none for anonymous visitors."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import mark_session_second_factor_verified, sign_in

# Who signs in, a page of theirs, and the links their bar must hold.
BARS = [
    ("lead_responder", "/work/", {"/work/", "/cases/", "/handoffs/incoming/", "/notifications/deadlines/"}),
    ("receiving_responder", "/cases/", {"/work/", "/cases/", "/handoffs/incoming/"}),
    ("lead_supervisor", "/supervision/", {"/supervision/", "/supervision/reviews/", "/supervision/dashboard/"}),
    ("lead_admin", "/staff/", {"/staff/"}),
    ("analyst", "/reports/", {"/reports/"}),
    ("province_analyst", "/reports/", {"/reports/"}),
]


def _nav(html: str) -> str:
    match = re.search(r'<nav class="nav"[^>]*data-testid="main-nav".*?</nav>', html, re.S)
    assert match, "no navigation bar"
    return match.group(0)


@pytest.mark.parametrize(("username", "path", "links"), BARS)
def test_every_role_has_a_navigation_bar(client, world, username, path, links):
    sign_in(client, username)
    nav = _nav(client.get(path).content.decode())
    hrefs = set(re.findall(r'href="([^"]+)"', nav))
    assert links <= hrefs, hrefs
    assert re.search(rf'href="{re.escape(path)}" aria-current="page"', nav)
    # Nobody is offered another role's pages.
    if username.endswith("responder"):
        assert not {"/supervision/", "/staff/", "/reports/"} & hrefs
    if username in ("analyst", "province_analyst", "lead_admin"):
        assert not {"/cases/", "/work/", "/supervision/"} & hrefs


def test_the_bar_costs_no_query_once_signed_in(client, world):
    """The roles are read once for a session that has none (two queries, accounts.selectors.user_roles,
    and the session saved), and never again: the page then costs what it cost without the bar."""
    sign_in(client, "lead_responder")
    session = client.session
    session.pop("nav_roles")
    session.save()

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/notifications/deadlines/").status_code == 200
        return len(queries.captured_queries)

    without_roles, with_roles = count(), count()
    assert without_roles >= with_roles + 2
    assert count() == with_roles


def test_a_session_from_before_the_bar_gets_it_on_its_next_page(client, world):
    client.force_login(world.lead_supervisor)
    session = client.session
    session.pop("nav_roles", None)
    session.save()
    assert 'href="/supervision/reviews/"' in _nav(client.get("/supervision/").content.decode())
    assert client.session["nav_roles"] == ["supervisor"]


def test_anonymous_visitors_get_no_bar(client, db):
    assert 'data-testid="main-nav"' not in client.get("/login/").content.decode()


def _hrefs(client, path: str) -> set[str]:
    response = client.get(path)
    assert response.status_code == 200
    return set(re.findall(r'href="([^"]+)"', _nav(response.content.decode())))


def test_a_role_given_or_taken_by_an_admin_shows_in_the_bar_on_the_next_request(client, world):
    """The roles are kept in the session, but a membership added, changed or removed after sign-in
    takes effect on the very next page, without signing in again."""
    from agencies.services import membership_add, membership_change_role, membership_remove

    sign_in(client, "lead_responder")
    assert "/supervision/reviews/" not in _hrefs(client, "/work/")

    membership = membership_add(user=world.lead_responder, agency=world.health, role="supervisor")
    mark_session_second_factor_verified(client)  # a supervisor gives a second factor
    assert "/supervision/reviews/" in _hrefs(client, "/work/")

    membership_change_role(membership=membership, role="responder")
    assert "/supervision/reviews/" not in _hrefs(client, "/work/")

    membership_change_role(membership=membership, role="supervisor")
    assert "/supervision/reviews/" in _hrefs(client, "/work/")
    membership_remove(user=world.lead_responder, agency=world.health)
    hrefs = _hrefs(client, "/work/")
    assert "/supervision/reviews/" not in hrefs and "/work/" in hrefs


def test_an_analyst_scope_removed_leaves_the_bar_on_the_next_request(client, world):
    sign_in(client, "analyst")
    assert "/reports/" in _hrefs(client, "/password/")
    world.analyst.analyst_scopes.all().delete()
    assert "/reports/" not in _hrefs(client, "/password/")


def test_another_persons_role_change_does_not_reread_my_roles(client, world):
    """The version is per person: someone else's new membership costs this session no query."""
    from agencies.services import membership_add

    sign_in(client, "lead_responder")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/notifications/deadlines/").status_code == 200
        return len(queries.captured_queries)

    count()
    settled = count()
    membership_add(user=world.receiving_responder, agency=world.police, role="responder")
    assert count() == settled


def test_the_bar_is_drawn_once_per_roles_page_and_language_and_as_before():
    """accounts.navigation.nav_menu_for: the drawn bar is kept per roles, current link and language,
    and is exactly what nav_menu(nav_links(...)) draws for the page's own path."""
    from django.utils import translation

    from accounts.navigation import NAV_BY_ROLE, _nav_menu_drawn, nav_links, nav_menu, nav_menu_for

    every_role = list(NAV_BY_ROLE)
    paths = ["/cases/", "/cases/12/", "/cases/12/actions/new/", "/handoffs/incoming/", "/work/", "/elsewhere/", "/"]
    for language in ("vi", "en"):
        with translation.override(language):
            for roles in (every_role[:1], every_role[1:2], every_role, every_role[::-1]):
                for path in paths:
                    assert nav_menu_for(roles=roles, path=path) == nav_menu(nav_links(roles=roles, path=path))
    with translation.override("en"):
        english = nav_menu_for(roles=every_role[:1], path="/cases/12/")
    with translation.override("vi"):
        vietnamese = nav_menu_for(roles=every_role[:1], path="/cases/12/")
    assert english != vietnamese and 'aria-current="page">Cases<' in english
    before = _nav_menu_drawn.cache_info()
    with translation.override("en"):
        for case_id in range(50):
            assert nav_menu_for(roles=every_role[:1], path=f"/cases/{case_id}/") == english
    after = _nav_menu_drawn.cache_info()
    assert after.misses == before.misses and after.hits == before.hits + 50


def test_a_person_with_a_role_can_be_deleted(world):
    """Deleting a person deletes their memberships first, whose receivers write a new roles version for
    them in that transaction: the version's row must not keep the person's deletion from committing."""
    from django.contrib.auth import get_user_model

    from agencies.services import membership_add

    person = get_user_model().objects.create_user("leaving", password="x")  # noqa: S106
    membership_add(user=person, agency=world.police, role="responder")
    person.delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The deferred foreign keys are checked now, as the commit would check them.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert not get_user_model().objects.filter(username="leaving").exists()
