"""The handoff register's figures against hand-computed answers (see conftest for the fixture)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.models import Agency
from cases.models import Action, Case
from handoffs.models import Handoff
from handoffs.services import handoff_decline
from supervision.selectors import (
    RegisterFilters,
    RegisterRows,
    cases_handed_on,
    cases_handed_on_rows,
    cases_without_action,
    cases_without_action_rows,
    counterpart_agencies,
    decline_reasons,
    handoff_register,
    handoff_register_summary,
)
from tests.supervision.conftest import DAY, HOUR, REGISTER_ONCE, act, send

pytestmark = REGISTER_ONCE

MINUTE = datetime.timedelta(minutes=1)


def ids(qs) -> set[int]:
    return {h.pk for h in qs}


def test_each_row_carries_its_durations_deadline_state_and_direction(world, register):
    rows = {h.pk: h for h in handoff_register(agency=world.police, now=register.now)}
    r = register
    assert set(rows) == {r.h1.pk, r.h2.pk, r.h3.pk, r.h4.pk, r.h5.pk}
    h1 = rows[r.h1.pk]
    assert (h1.direction, h1.to_view, h1.to_answer, h1.to_first_action, h1.to_completion) == (
        "sent", 30 * MINUTE, 2 * HOUR, 5 * HOUR, DAY)
    assert (h1.deadline_state, h1.overdue, h1.first_action_at) == ("met", False, r.t0 + 5 * HOUR)
    h2 = rows[r.h2.pk]
    assert (h2.to_view, h2.to_answer, h2.to_first_action, h2.to_completion) == (4 * HOUR, 20 * HOUR, None, None)
    assert h2.deadline_state == "missed" and h2.decline_reason == "Không đủ giường bệnh."
    h3 = rows[r.h3.pk]
    assert (h3.to_view, h3.to_answer, h3.deadline_state, h3.overdue) == (None, None, "missed", True)
    h4 = rows[r.h4.pk]
    assert (h4.direction, h4.to_answer, h4.to_first_action, h4.deadline_state) == ("received", HOUR, 3 * HOUR, "met")
    assert rows[r.h5.pk].deadline_state == "void"
    # Newest first.
    assert [h.pk for h in handoff_register(agency=world.police, now=r.now)] == [r.h3.pk, r.h4.pk, r.h2.pk,
                                                                                 r.h1.pk, r.h5.pk]


def test_summary_counts_and_durations_are_computed_by_the_database(world, register):
    with CaptureQueriesContext(connection) as queries:
        s = handoff_register_summary(agency=world.police, now=register.now)
    assert len(queries) == 1
    assert s["total"] == 5
    assert (s["status_completed"], s["status_declined"], s["status_sent"], s["status_accepted"],
            s["status_withdrawn"]) == (1, 1, 1, 1, 1)
    assert (s["deadline_met"], s["deadline_missed"], s["deadline_open"], s["deadline_void"], s["overdue"]) == (
        2, 2, 0, 1, 1)
    # Viewed: 30 min, 4 h, 1 h. Answered: 2 h, 20 h, 1 h. First action: 5 h, 3 h. Completed: 24 h.
    assert (s["to_view_count"], s["to_view_avg"], s["to_view_max"]) == (3, HOUR + 50 * MINUTE, 4 * HOUR)
    assert (s["to_answer_count"], s["to_answer_avg"], s["to_answer_max"]) == (3, 7 * HOUR + 40 * MINUTE, 20 * HOUR)
    assert (s["to_first_action_count"], s["to_first_action_avg"]) == (2, 4 * HOUR)
    assert (s["to_completion_count"], s["to_completion_avg"]) == (1, DAY)


def test_the_health_agency_sees_its_side_only(world, register):
    rows = {h.pk: h for h in handoff_register(agency=world.health, now=register.now)}
    r = register
    assert set(rows) == {r.h1.pk, r.h2.pk, r.h4.pk, r.h5.pk}
    assert rows[r.h1.pk].direction == "received" and rows[r.h4.pk].direction == "sent"


FILTERS = [
    (RegisterFilters(direction="sent"), {"h1", "h2", "h3", "h5"}),
    (RegisterFilters(direction="received"), {"h4"}),
    (RegisterFilters(statuses=("declined",)), {"h2"}),
    (RegisterFilters(statuses=("declined", "sent")), {"h2", "h3"}),
    (RegisterFilters(urgency="standard"), {"h2"}),
    (RegisterFilters(urgency="emergency"), {"h3"}),
    (RegisterFilters(kind="transfer"), set()),
    (RegisterFilters(overdue=True), {"h3"}),
    (RegisterFilters(deadline="met"), {"h1", "h4"}),
    (RegisterFilters(deadline="missed"), {"h2", "h3"}),
    (RegisterFilters(deadline="void"), {"h5"}),
    (RegisterFilters(deadline="open"), set()),
    (RegisterFilters(sector="health"), {"h1", "h2", "h4", "h5"}),
    (RegisterFilters(sector="social_work"), {"h3"}),
    (RegisterFilters(reviewed=False), {"h1", "h2", "h3", "h4", "h5"}),
    (RegisterFilters(reviewed=True), set()),
    (RegisterFilters(deadline="missed", statuses=("declined",)), {"h2"}),
]


@pytest.mark.parametrize("filters, expected", FILTERS)
def test_every_filter(world, register, filters, expected):
    got = ids(handoff_register(agency=world.police, filters=filters, now=register.now))
    assert got == {getattr(register, name).pk for name in expected}


def test_counterpart_filter(world, register):
    r = register
    assert ids(handoff_register(agency=world.police, filters=RegisterFilters(counterpart=r.social.pk))) == {r.h3.pk}
    assert ids(handoff_register(agency=world.police, filters=RegisterFilters(counterpart=world.health.pk))) == {
        r.h1.pk, r.h2.pk, r.h4.pk, r.h5.pk}


def test_period_filter_uses_days_in_viet_nam(world, register):
    r = register
    t0_day = r.t0.date()
    # The last month: H5 (40 days ago) is left out.
    last_month = RegisterFilters(since=(r.now - 30 * DAY).date())
    assert ids(handoff_register(agency=world.police, filters=last_month, now=r.now)) == {
        r.h1.pk, r.h2.pk, r.h3.pk, r.h4.pk}
    # One day, both ends included: H1 only (sent T0 09:00 local).
    one_day = RegisterFilters(since=t0_day, until=t0_day)
    assert ids(handoff_register(agency=world.police, filters=one_day)) == {r.h1.pk}
    # A handoff sent at 23:30 local belongs to that local day, not to the UTC one.
    set_late = r.t0.replace(hour=23, minute=30)
    Handoff.objects.filter(pk=r.h1.pk).update(sent_at=set_late)
    assert ids(handoff_register(agency=world.police, filters=one_day)) == {r.h1.pk}
    next_day = RegisterFilters(since=t0_day + DAY, until=t0_day + DAY)
    assert ids(handoff_register(agency=world.police, filters=next_day)) == {r.h2.pk}


def test_summary_follows_the_filters(world, register):
    s = handoff_register_summary(agency=world.police, filters=RegisterFilters(direction="received"),
                                 now=register.now)
    assert (s["total"], s["deadline_met"], s["to_answer_avg"], s["to_first_action_avg"]) == (1, 1, HOUR, 3 * HOUR)


def test_first_action_counts_only_after_acceptance(world, register):
    # An action by the receiving agency dated before it accepted is not its first action after accepting.
    later = Action.objects.filter(case_id=register.h1.case_id, agency=world.health).order_by("-occurred_at").first()
    Action.objects.filter(pk=later.pk).update(occurred_at=register.t0 + HOUR)
    row = handoff_register(agency=world.police).get(pk=register.h1.pk)
    assert row.to_first_action == 5 * HOUR


def test_decline_reasons_group_the_same_words(world, register):
    case = register.h2.case
    for _ in range(2):
        handoff = send(world, case, urgency="standard")
        handoff_decline(user=world.receiving_responder, handoff_id=handoff.pk, reason="Ngoài phạm vi chuyên môn.")
    reasons = decline_reasons(agency=world.police, now=register.now)
    assert [(r["decline_reason"], r["count"]) for r in reasons] == [
        ("Ngoài phạm vi chuyên môn.", 2), ("Không đủ giường bệnh.", 1)]
    assert decline_reasons(agency=world.police, filters=RegisterFilters(urgency="urgent")) == []


def test_cases_handed_on_more_than_n_times(world, register):
    case = register.h2.case  # one declined handoff so far
    for _ in range(2):
        handoff = send(world, case, urgency="standard")
        handoff_decline(user=world.receiving_responder, handoff_id=handoff.pk, reason="Ngoài phạm vi chuyên môn.")
    found = {c.pk: c.handoff_count for c in cases_handed_on(agency=world.police, more_than=2)}
    assert found == {case.pk: 3}
    assert not cases_handed_on(agency=world.police, more_than=3).exists()
    # The withdrawn H5 does not count: its case was handed on 0 times.
    assert register.h5.case_id not in {c.pk for c in cases_handed_on(agency=world.police, more_than=0)}
    assert {c.pk for c in cases_handed_on(agency=world.police, more_than=0)} == {
        register.h1.case_id, case.pk, register.h3.case_id, register.h4.case_id}
    # Another agency's view is limited to the cases it sent or received.
    assert not cases_handed_on(agency=world.school, more_than=0).exists()


def test_cases_without_action_for_n_days(world, register):
    r = register
    # Police leads cases 1, 2, 3, 5 (opened T0−1 h, T0+23 h, now−4 h, T0−30 d−1 h) and holds the
    # accepted H4 of case 4 (accepted T0+2 d+1 h, police's action T0+2 d+3 h). Police's own
    # action on case 1: T0+3 h.
    idle = {c.pk: c.last_activity_at for c in cases_without_action(agency=world.police, days=5, now=r.now)}
    assert idle == {
        r.h1.case_id: r.t0 + 3 * HOUR,
        r.h2.case_id: r.t0 + DAY - HOUR,
        r.h4.case_id: r.t0 + 2 * DAY + 3 * HOUR,
        r.h5.case_id: r.t0 - 30 * DAY - HOUR,
    }
    # Only case 5 has been idle for 30 days.
    assert set(c.pk for c in cases_without_action(agency=world.police, days=30, now=r.now)) == {r.h5.case_id}
    # A closed case is not idle, it is done.
    Case.objects.filter(pk=r.h5.case_id).update(status="closed")
    assert not cases_without_action(agency=world.police, days=30, now=r.now).exists()
    # A fresh action resets the clock.
    act(world.lead_responder, r.h1.case, at=r.now - HOUR)
    assert r.h1.case_id not in {c.pk for c in cases_without_action(agency=world.police, days=5, now=r.now)}
    assert Action.objects.filter(case_id=r.h1.case_id, agency=world.police).count() == 2


def test_an_opening_after_the_agencys_records_counts_only_where_a_record_is_missing(world, register):
    """The idle clock is the later of (last action, or else the opening) and (acceptance, or else the
    opening): a case recorded as opened after both its action and its acceptance (records entered
    afterwards) keeps the older clock; without an action, or without an acceptance, the opening counts."""
    r = register
    Case.objects.filter(pk__in=[r.h1.case_id, r.h4.case_id]).update(created_at=r.now - HOUR)
    idle = {c.pk: c.last_activity_at for c in cases_without_action(agency=world.police, days=5, now=r.now)}
    # Case 4: police's action (T0+2 d+3 h) and acceptance (T0+2 d+1 h) both stand in for the opening.
    assert idle[r.h4.case_id] == r.t0 + 2 * DAY + 3 * HOUR
    # Case 1: police accepted no handoff of it, so the opening an hour ago counts: not idle.
    assert r.h1.case_id not in idle
    # Without police's action on case 4 the opening counts there too.
    Action.objects.filter(case_id=r.h4.case_id, agency=world.police).delete()
    assert r.h4.case_id not in {c.pk for c in cases_without_action(agency=world.police, days=5, now=r.now)}


def test_a_case_reached_both_ways_is_listed_once_with_its_own_counts(world, register):
    """The lists start from the agency's rows, a UNION of two index reads (led or accepted; sent or
    received): a case the agency reaches both ways is one row, its handoffs counted once each."""
    r = register
    case = r.h2.case  # police sent H2 (declined)
    for _ in range(2):
        handoff = send(world, case, urgency="standard")
        handoff_decline(user=world.receiving_responder, handoff_id=handoff.pk, reason="Ngoài phạm vi chuyên môn.")
    # One of them came to police instead: police both sent and received handoffs of the case.
    Handoff.objects.filter(pk=handoff.pk).update(from_agency=world.health, to_agency=world.police)
    handed_on = list(cases_handed_on(agency=world.police, more_than=2))
    assert [(c.pk, c.handoff_count) for c in handed_on] == [(case.pk, 3)]
    # The health agency declined each: it never saw the case, and is not told how often it moves on.
    assert not cases_handed_on(agency=world.health, more_than=2).exists()

    # Police holds the accepted H4 of case 4 and now leads it too: one row, the same clock.
    Case.objects.filter(pk=r.h4.case_id).update(lead_agency=world.police)
    idle = [(c.pk, c.last_activity_at) for c in cases_without_action(agency=world.police, days=5, now=r.now)]
    assert idle.count((r.h4.case_id, r.t0 + 2 * DAY + 3 * HOUR)) == 1
    assert len(idle) == len({pk for pk, _at in idle}) == 4
    # A closed case leaves the list however the agency reached it.
    Case.objects.filter(pk=r.h4.case_id).update(status="closed", lead_agency=world.health)
    assert r.h4.case_id not in {c.pk for c in cases_without_action(agency=world.police, days=5, now=r.now)}


def test_counterpart_choices_are_the_agencies_handoffs_went_to_or_came_from(world, register):
    """The register page's counterpart filter offers exactly the agencies this one sent handoffs to or
    received them from, each once, by name (read from two id lists, not a join of every handoff)."""
    social = register.social
    expected = {world.health.pk, social.pk} | set(
        Handoff.objects.filter(to_agency=world.police).values_list("from_agency_id", flat=True))
    police_counterparts = counterpart_agencies(agency=world.police)
    assert [pk for pk, _name in police_counterparts] == sorted(
        expected, key=lambda pk: Agency.objects.get(pk=pk).name)
    assert police_counterparts[0] == (police_counterparts[0][0], Agency.objects.get(pk=police_counterparts[0][0]).name)
    assert [pk for pk, _name in counterpart_agencies(agency=social)] == [world.police.pk]


def test_the_pages_lean_reads_are_the_selectors_querysets(world, register):
    """What the register page reads lean (compiled once on PostgreSQL) is what the ORM's querysets give:
    the rows, the figures, the reasons, the lists, the counterparts."""
    r = register
    case = r.h2.case
    for _ in range(2):
        handoff = send(world, case, urgency="standard")
        handoff_decline(user=world.receiving_responder, handoff_id=handoff.pk, reason="Ngoài phạm vi chuyên môn.")
    for agency in (world.police, world.health, world.school):
        unfiltered, declined = RegisterFilters(), RegisterFilters(statuses=("declined",))
        for filters in (unfiltered, declined):
            expected = list(handoff_register(agency=agency, filters=filters, now=r.now))
            rows = RegisterRows(agency=agency, filters=filters, now=r.now, count=len(expected))
            for window in (slice(0, 50), slice(1, 3), slice(0, 60)):  # the first page is read otherwise
                assert [(h.pk, h.case_number, h.status, h.urgency, h.deadline_state, h.overdue, h.direction,
                         h.counterpart, h.sent_at, h.due_at, h.to_view, h.to_answer, h.to_first_action,
                         h.to_completion, h.decline_reason, h.case_handoffs, h.review_verdict)
                        for h in rows[window]] == [
                    (h.pk, h.case.number, h.status, h.urgency, h.deadline_state, h.overdue, h.direction,
                     (h.to_agency if h.direction == "sent" else h.from_agency).name, h.sent_at, h.due_at, h.to_view,
                     h.to_answer, h.to_first_action, h.to_completion, h.decline_reason, h.case_handoffs,
                     h.review_verdict)
                    for h in expected[window]]
        assert handoff_register_summary(agency=agency, now=r.now) == handoff_register_summary(
            agency=agency, filters=RegisterFilters(kind=None, extra={"orm": True}), now=r.now)
        assert decline_reasons(agency=agency, now=r.now) == decline_reasons(
            agency=agency, filters=RegisterFilters(extra={"orm": True}), now=r.now)
        assert cases_handed_on_rows(agency=agency, more_than=0) == [
            (c.pk, c.number, c.handoff_count, c.lead_agency.name) for c in cases_handed_on(agency=agency, more_than=0)]
        assert cases_without_action_rows(agency=agency, days=1, now=r.now) == [
            (c.pk, c.number, c.last_activity_at) for c in cases_without_action(agency=agency, days=1, now=r.now)]
    assert decline_reasons(agency=world.police, now=r.now)[0]["count"] == 2
    assert len(cases_handed_on_rows(agency=world.police, more_than=0)) == 4
