"""Issue 16, part 4: a permanent navigation bar for every role, single-role people included, drawn
from the roles read at sign-in (no query per page); none for anonymous visitors."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import sign_in

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
