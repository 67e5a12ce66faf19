"""Dashboard: deadline compliance by owner agency and ISO week, overdue deadlines, pending reviews."""

import datetime

import pytest
from django.utils import timezone

from notifications.calendar import VIETNAM
from notifications.models import Deadline
from notifications.services import deadline_create
from supervision.charts import horizontal_bars_svg, stacked_bars_svg
from supervision.dashboard import dashboard, deadline_compliance
from tests.supervision.conftest import DAY, HOUR, REGISTER_ONCE

pytestmark = REGISTER_ONCE


def place(handoff, *, due, closed=None):
    """Move the handoff's response deadline to exact times (the services used the real clock)."""
    Deadline.objects.filter(subject=f"handoff:{handoff.pk}").update(
        remind_at=due - HOUR, due_at=due, escalate_at=due + HOUR, closed_at=closed,
        stage="closed" if closed else "overdue",
    )


def iso(moment: datetime.datetime) -> tuple[int, int]:
    return tuple(timezone.localtime(moment, VIETNAM).isocalendar()[:2])


@pytest.fixture
def deadlines(world, register):
    """H1: health's, met (closed T0+2 h, due T0+12 h); H2: health's, missed (closed T0+1 d+20 h, due
    T0+1 d+8 h); H3: social work's, open and overdue; H4: police's, met; H5: withdrawn, counted for
    nobody; and a police follow-up, due later this week and open."""
    r = register
    place(r.h1, due=r.t0 + 12 * HOUR, closed=r.t0 + 2 * HOUR)
    place(r.h2, due=r.t0 + DAY + 8 * HOUR, closed=r.t0 + DAY + 20 * HOUR)
    place(r.h3, due=r.now - 2 * HOUR)
    place(r.h4, due=r.t0 + 2 * DAY + 12 * HOUR, closed=r.t0 + 2 * DAY + HOUR)
    today = timezone.localtime(r.now, VIETNAM).date()
    week_end = datetime.datetime.combine(today + datetime.timedelta(days=7 - today.isoweekday() + 1),
                                         datetime.time.min, tzinfo=VIETNAM)
    follow_up = deadline_create(kind="follow_up", subject="review:test", owner_agency=world.police,
                                due_at=r.now + (week_end - r.now) / 2, case_number=r.h2.case.number, link="/cases/1/")
    return follow_up


def test_compliance_by_agency_and_iso_week(world, register, deadlines):
    r = register
    rows = deadline_compliance(agency=world.police, weeks=4, now=r.now)
    # The agency itself first, then the others by name.
    assert [row.agency_name for row in rows] == [world.police.name, world.health.name, r.social.name]
    by_agency = {row.agency_id: row for row in rows}
    assert all(len(row.weeks) == 4 for row in rows)
    assert [(w.iso_year, w.week) for w in rows[0].weeks][-1] == iso(r.now)

    def counts(agency, moment):
        week = next(w for w in by_agency[agency.pk].weeks if (w.iso_year, w.week) == iso(moment))
        return week.met, week.missed, week.open

    police, health, social = world.police, world.health, r.social
    assert (by_agency[police.pk].met, by_agency[police.pk].missed, by_agency[police.pk].open) == (1, 0, 1)
    assert (by_agency[health.pk].met, by_agency[health.pk].missed, by_agency[health.pk].open) == (1, 1, 0)
    assert (by_agency[social.pk].met, by_agency[social.pk].missed, by_agency[social.pk].open) == (0, 1, 0)
    assert counts(police, r.t0 + 2 * DAY + 12 * HOUR) == (1, 0, 0)
    assert counts(police, deadlines.due_at) == (0, 0, 1)
    if iso(r.t0 + 12 * HOUR) == iso(r.t0 + DAY + 8 * HOUR):
        assert counts(health, r.t0) == (1, 1, 0)
    else:
        assert counts(health, r.t0 + 12 * HOUR) == (1, 0, 0)
        assert counts(health, r.t0 + DAY + 8 * HOUR) == (0, 1, 0)
    assert counts(social, r.now - 2 * HOUR) == (0, 1, 0)


def test_weeks_out_of_range_are_left_out(world, register, deadlines):
    rows = deadline_compliance(agency=world.police, weeks=1, now=register.now)
    expected = {world.police.pk: (0, 0, 1)}
    if iso(register.now - 2 * HOUR) == iso(register.now):  # not so early on a Monday that H3 fell last week
        expected[register.social.pk] = (0, 1, 0)
    assert {row.agency_id: (row.met, row.missed, row.open) for row in rows} == expected


def test_the_receiving_agency_sees_its_own_deadlines_and_those_it_handed_on(world, register, deadlines):
    rows = deadline_compliance(agency=world.health, weeks=4, now=register.now)
    # Health owns H1 and H2 and sent H4 (owned by the police); not H3 nor the police follow-up.
    assert {row.agency_id: (row.met, row.missed, row.open) for row in rows} == {
        world.health.pk: (1, 1, 0), world.police.pk: (1, 0, 0)}


def test_overdue_and_pending_reviews(world, register, deadlines, break_glass_use):
    board = dashboard(agency=world.police, now=register.now)
    assert [d.subject for d in board.overdue] == [f"handoff:{register.h3.pk}"] and board.overdue_count == 1
    assert board.pending_reviews == {"handoff": 5, "consent_override": 0, "break_glass": 1, "risk_lowered": 0,
                                     "meeting_without_minutes": 0}


def test_dashboard_page_draws_inline_svg(world, register, deadlines, web):
    body = web(world.lead_supervisor).get("/supervision/dashboard/?weeks=4").content.decode()
    assert body.count('<svg class="chart"') == 4  # three agencies, and the pending reviews
    assert f'data-testid="compliance-{world.police.pk}"' in body and 'data-testid="overdue-deadlines"' in body
    main = body.split("<main", 1)[1].split("</main>", 1)[0]
    assert "<script" not in main and "http://" not in body.split("<svg", 1)[1].split("</svg>")[0].replace(
        "http://www.w3.org/2000/svg", "")


def test_charts_escape_their_text():
    svg = stacked_bars_svg(chart_id="c", title="<b>x</b>", labels=["<i>"], series=[("a&b", "#000", [3])])
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "&lt;i&gt;" in svg and "a&amp;b" in svg
    svg = horizontal_bars_svg(chart_id="h", title="t", items=[("<script>", 2, "#000")])
    assert "<script>" not in svg
