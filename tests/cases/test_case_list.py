"""The case list's lean read (cases.selectors.CaseList): for a reader of one holder, a page of the
list as it is first asked for is one compiled query of the columns the list shows; anything else is
the ORM's queryset as before. Both must list the same cases, in the same order, shown the same way,
with the same pagination links, in both languages."""

import re

import pytest
from django.db import connection
from django.utils import timezone, translation

from agencies.services import membership_add
from cases.models import CaseAccessRow
from cases.selectors import CaseList, CaseListRow, case_get_for_user, case_list_visible_to
from permissions.access import VIEW_BIT
from tests.cases.conftest import case_build, medical_consent, referral_accepted
from tests.cases.services_helpers import consent_record_through_edge
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
# config.compiled remembers compiled SQL on PostgreSQL only (SQLite adapts values in the ORM): elsewhere
# every list is the ORM's, and the lean path's own tests have nothing to test.
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the compiled path is PostgreSQL's")


def _shown(row) -> tuple:
    return (row.pk, row.id, row.number, row.status, row.risk_level, row.created_at, row.updated_at, row.sort_at,
            row.province.code, row.province.name, row.lead_agency.pk, row.lead_agency.name, row.lead_agency.sector,
            row.get_status_display(), row.get_risk_level_display())


@pytest.fixture
def listed(world):
    """Cases of three agencies, one shared by referral, and a reader of each kind: of one agency, of
    several (the ORM's path), of their own time-limited rows only, and people who read no case."""
    for risk_level in ("low", "high", "medium", "high", "low", "medium", "high"):
        case_build(world, risk_level=risk_level)
    shared = case_build(world)
    consent_record_through_edge(access=case_get_for_user(user=world.lead_responder, case_id=shared.pk),
                                actor=world.lead_responder, data=medical_consent(world))
    referral_accepted(world, shared, to=world.health, categories=["medical"])
    hue = [case_build(world, actor=world.outsider_responder, agency=world.school) for _ in range(2)]
    several = make_user("several")
    membership_add(user=several, agency=world.police, role="responder")
    membership_add(user=several, agency=world.school, role="responder")
    own_rows_only = make_user("own_rows_only")
    CaseAccessRow.objects.create(case=hue[0], user=own_rows_only, rights=VIEW_BIT, categories=0,
                                 valid_until=timezone.now() + timezone.timedelta(hours=1),
                                 case_updated_at=hue[0].updated_at)
    CaseAccessRow.objects.create(case=hue[1], user=own_rows_only, rights=VIEW_BIT, categories=0,
                                 valid_until=timezone.now() - timezone.timedelta(minutes=1),
                                 case_updated_at=hue[1].updated_at)
    return {"lead": world.lead_responder, "receiving": world.receiving_responder, "outsider": world.outsider_responder,
            "several": several, "own_rows_only": own_rows_only, "analyst": world.analyst, "admin": world.lead_admin,
            "sysadmin": world.sysadmin}


@pytest.mark.parametrize("language", ["en", "vi"])
def test_the_lean_list_is_the_querysets_list(listed, language):
    lean_readers = set()
    with translation.override(language):
        for name, user in listed.items():
            cases = CaseList(user=user)
            expected = list(case_list_visible_to(user=user))
            for window in (slice(0, 51), slice(0, 3), slice(2, 5), slice(9, 30), slice(40, 60)):
                for source in (cases, cases.order_by("-sort_at", "-id")):
                    rows = source[window]
                    assert [_shown(row) for row in rows] == [_shown(case) for case in expected[window]], (name, window)
                    if rows and isinstance(rows[0], CaseListRow):
                        lean_readers.add(name)
            assert cases.count() == len(expected)
            assert [case.pk for case in cases] == [case.pk for case in expected]
    # The compiled path was the one tested for the readers of one holder, the ORM's for the others.
    assert lean_readers == ({"lead", "receiving", "outsider", "own_rows_only"}
                            if connection.vendor == "postgresql" else set())
    assert [_shown(row) for row in CaseList(user=listed["own_rows_only"])[0:10]] == [
        _shown(case) for case in case_list_visible_to(user=listed["own_rows_only"])] != []


@postgresql_only
def test_anything_but_the_first_ask_is_the_querysets(listed, django_assert_num_queries):
    """A filter, a cursor's position or the reverse order are the ORM's: model instances. The holders
    are read once: each page after is one query, as the first."""
    with django_assert_num_queries(1):
        cases = CaseList(user=listed["lead"])
    with django_assert_num_queries(1):
        first = cases.order_by("-sort_at", "-id")[0:3]
    assert all(isinstance(row, CaseListRow) for row in first)
    with django_assert_num_queries(1):
        later = list(cases.order_by("-sort_at", "-id").filter(sort_at__lt=first[-1].sort_at)[0:3])
    assert not any(isinstance(row, CaseListRow) for row in later)
    assert [row.pk for row in [*first, *later]] == [case.pk for case in case_list_visible_to(user=listed["lead"])[0:6]]
    backwards = cases.order_by("sort_at", "id")[0:3]
    assert [row.pk for row in backwards] == [case.pk for case in case_list_visible_to(user=listed["lead"])][::-1][:3]
    filtered = CaseList(user=listed["lead"], criteria={"risk_level": "high"})
    assert {row.risk_level for row in filtered[0:20]} == {"high"} and filtered.count() == 3


def _walk(client, url: str, direction: str) -> list[tuple]:
    pages = []
    while url:
        body = client.get(url).json()
        pages.append((tuple(row["number"] for row in body["results"]), body["next"], body["previous"], body["results"]))
        url = body[direction]
    return pages


@pytest.mark.parametrize("reader", ["lead", "own_rows_only", "several"])
def test_the_apis_pages_and_links_are_the_querysets(listed, api, monkeypatch, reader):
    """Forward through every page by the next links, then back by the previous links of the last."""
    client = api(listed[reader])

    def both_ways():
        forward = _walk(client, "/api/cases/?page_size=3", "next")
        backward = _walk(client, forward[-1][2], "previous") if forward[-1][2] else []
        return forward, backward

    lean = both_ways()
    monkeypatch.setattr(CaseList, "_lean", lambda self: False)
    assert both_ways() == lean
    forward, backward = lean
    expected = [case.number for case in case_list_visible_to(user=listed[reader])]
    assert [number for page in forward for number in page[0]] == expected
    before_last = expected[:len(expected) - len(forward[-1][0])]
    assert [number for page in reversed(backward) for number in page[0]] == before_last
    assert len(forward) > 1 or reader == "own_rows_only"


def _cards(response) -> str:
    html = response.content.decode()
    return "".join(re.findall(r'<ul class="case-cards".*?</ul>|<nav class="pager".*?</nav>', html, re.S))


@pytest.mark.parametrize("language", ["en", "vi"])
def test_the_pages_cards_and_pager_are_the_querysets(listed, web, monkeypatch, world, language):
    for _ in range(13):
        case_build(world)
    client = web(world.lead_responder)
    client.cookies["django_language"] = language
    lean = [_cards(client.get(f"/cases/?page={n}", HTTP_ACCEPT_LANGUAGE=language)) for n in (1, 2)]
    assert lean[0] and lean[1] and lean[0] != lean[1]
    monkeypatch.setattr(CaseList, "_lean", lambda self: False)
    assert [_cards(client.get(f"/cases/?page={n}", HTTP_ACCEPT_LANGUAGE=language)) for n in (1, 2)] == lean


@postgresql_only
def test_a_compiled_query_refuses_a_value_it_could_not_put_back(listed):
    """A value the ORM writes into the SQL itself (a LIMIT) cannot be replaced by the next call's: refused."""
    from django.db.models import F

    from cases.models import Case
    from config.compiled import CompiledQuery

    inlined = CompiledQuery(lambda n: Case.objects.order_by("id").values_list("id")[:n], n="int")
    with pytest.raises(ValueError, match="n is not a parameter"):
        inlined.rows(n=2)
    numbers = CompiledQuery(lambda low: Case.objects.filter(id__gte=low).annotate(twice=F("id") * 2)
                            .order_by("id").values_list("id", "twice"), low="int")
    low = Case.objects.order_by("id").values_list("id", flat=True)[3]
    assert numbers.rows(low=low) == [(pk, pk * 2) for pk in Case.objects.filter(id__gte=low).order_by("id")
                                     .values_list("id", flat=True)]
    assert numbers.rows(low=low + 1) == numbers.rows(low=low)[1:]


@postgresql_only
def test_the_page_asked_for_is_read_with_the_holders_and_the_count(listed, django_assert_num_queries):
    """read_ahead: for a reader of one agency, the slice asked for comes in the holders' statement (with
    the count when `counted`), and is the slice the lean query and the ORM give; any other slice, and any
    other reader, is read as without it."""
    for name in ("lead", "receiving", "outsider", "several", "own_rows_only"):
        user = listed[name]
        expected = list(case_list_visible_to(user=user))
        assert expected
        read_ahead = name in {"lead", "receiving", "outsider"}
        for offset, limit in ((0, 3), (2, 5), (5, 20), (40, 20)):
            for counted in (True, False):
                with django_assert_num_queries(1):
                    cases = CaseList(user=user, counted=counted, read_ahead=(offset, limit))
                with django_assert_num_queries(0 if read_ahead else 1):
                    rows = list(cases.order_by("-sort_at", "-id")[offset:offset + limit])
                assert [_shown(row) for row in rows] == [_shown(case) for case in expected[offset:offset + limit]], (
                    name, offset)
                with django_assert_num_queries(0 if read_ahead else 1):
                    shorter = list(cases[offset:offset + limit - 1])
                assert [row.pk for row in shorter] == [case.pk for case in expected[offset:offset + limit - 1]]
                with django_assert_num_queries(1):
                    other = list(cases[offset + 1:offset + 2])
                assert [row.pk for row in other] == [case.pk for case in expected[offset + 1:offset + 2]]
                with django_assert_num_queries(0 if counted else 1):
                    assert cases.visible_count() == len(expected)
    for name in ("analyst", "admin", "sysadmin"):
        assert list(CaseList(user=listed[name], counted=True, read_ahead=(0, 20))[0:20]) == []


@pytest.mark.parametrize("criteria", ["", "risk_level=high&"])
def test_the_pager_counts_up_to_a_bound_and_says_more_than(listed, web, world, monkeypatch, criteria):
    """The list page counts the reader's cases up to config.pages.count_bound: past it the pager says
    "more than" the pages it knows and links the page after, whose own count reaches further; a page
    within the bound is counted exactly. The cards are those of the whole list's pages."""
    monkeypatch.setattr("config.pages.COUNT_BOUND", 2)
    monkeypatch.setattr("cases.views.CASES_PER_PAGE", 2)
    for _ in range(3):
        case_build(world, risk_level="high")
    client = web(world.lead_responder)
    expected = [case.number for case in case_list_visible_to(user=world.lead_responder)
                if not criteria or case.risk_level == "high"]
    assert len(expected) >= 6

    def page(number: int):
        response = client.get(f"/cases/?{criteria}page={number}", HTTP_ACCEPT_LANGUAGE="en")
        html = response.content.decode()
        return response.context["page"], re.findall(r'<nav class="pager".*?</nav>', html, re.S)[0]

    first, pager = page(1)
    # Bound 3 (two cases, and one more): more than one page.
    assert first.paginator.count == 3 and first.paginator.more
    assert "Page 1 of more than 1" in pager and "page=2" in pager
    shown = [case.number for case in first.object_list]
    last_number = (len(expected) + 1) // 2
    for number in range(2, last_number + 1):
        current, pager = page(number)
        shown += [case.number for case in current.object_list]
        if number < last_number - 1:
            assert current.paginator.more and f"Page {number} of more than {number}" in pager
            assert f"page={number + 1}" in pager
        elif number == last_number:
            assert not current.paginator.more and current.paginator.count == len(expected)
            assert f"Page {number} of {last_number}" in pager and 'rel="next"' not in pager
    assert shown == expected
    # Past the end: the last page, counted exactly.
    beyond, pager = page(last_number + 5)
    assert beyond.number == last_number and f"Page {last_number} of {last_number}" in pager


@pytest.mark.parametrize("up_to", [None, 1, 2, 100])
def test_the_visible_count_stops_at_its_bound(listed, up_to, django_assert_num_queries):
    from cases.selectors import case_count_visible_to

    for name, user in listed.items():
        everything = len(case_list_visible_to(user=user))
        bounded = everything if up_to is None else min(everything, up_to)
        assert case_count_visible_to(user=user, up_to=up_to) == bounded, name
        cases = CaseList(user=user, counted=True, count_up_to=up_to, read_ahead=(0, 20))
        if everything:
            # Read with the holders and the page (PostgreSQL), as the list page reads it.
            with django_assert_num_queries(0 if connection.vendor == "postgresql" else 1):
                assert cases.count_up_to(up_to) == bounded, name
        assert cases.count_up_to(up_to) == bounded, name
        high = len([case for case in case_list_visible_to(user=user) if case.risk_level == "high"])
        assert CaseList(user=user, criteria={"risk_level": "high"}).count_up_to(up_to) == (
            high if up_to is None else min(up_to, high)), name
