"""The follow-up of risk for supervisors (issue 17, part 5): the dashboard's high-risk cases without
a case meeting within MEETING_WITHIN_DAYS and overdue action plan items by agency; the review
queue's lowered risk levels and meetings held without signed minutes. Each only what the
supervisor's agency may see, within query budgets; everyone else refused."""

import datetime

import pytest
from django.utils import timezone

from cases.models import Case
from cases.sharing import case_permissions_sync
from supervision.dashboard import dashboard, high_risk_without_meeting, plan_items_overdue_by_agency
from supervision.queue import queue_meetings_without_minutes, queue_risk_lowered, review_queue
from tests.conferences.rows import assess, meeting, plan_item
from tests.permissions.conftest import share
from tests.reports.conftest import make_case

DAY = datetime.timedelta(days=1)


def ago(now, days, hours=0):
    return now - days * DAY - datetime.timedelta(hours=hours)


@pytest.fixture
def followup(world, settings):
    """Police-led cases (N = 30 days):
    A high 40 days ago, never met: listed; B high 40 days ago, met 10 days ago: not listed;
    C high 5 days ago: within N, not listed; D severe 60 d, low 50 d, high 35 d ago: high since
    35 days, listed; E met 45 days ago, high 40 days ago: listed (the meeting was before);
    F high exactly 30 days ago: listed (the boundary); G closed: not listed; H high then medium
    (lowered: in the queue, not on the dashboard). Health leads I, high 40 days ago and met 4 days
    ago (late, but met: not listed), and J, high 40 days ago, never met: health's only.
    Meetings: M1 police, held, no minutes; M2 police, held, signed; M3 police, held, draft only;
    M4 health, held, no minutes; M5 police, scheduled.
    Plan items, open and past due unless said: police owns 1 (M1), health 2 (M1) and 1 more not yet
    due, 1 done late (not open); the school owns 1 of M4 (health's meeting, not police's).
    Every agency sees the cases it has plan items of, as in life (an agency is given a plan item of a case
    shared with it): each lead sees its cases, health holds a consent and an accepted referral of B, the
    school of I (the dashboard counts only items of cases the agencies see)."""
    settings.MEETING_WITHIN_DAYS = 30
    w = world
    now = timezone.now()
    c = {k: make_case(w, created_at=ago(now, 90)) for k in "ABCDEFH"}
    c["G"] = make_case(w, created_at=ago(now, 90), closed_at=ago(now, 1))
    c["I"] = make_case(w, created_at=ago(now, 90), lead=w.health)
    c["J"] = make_case(w, created_at=ago(now, 90), lead=w.health)
    for case in c.values():
        case_permissions_sync(case=case)
    share(w, c["B"], agency=w.health, granted=["medical"])
    share(w, c["I"], agency=w.school, granted=["education"])
    for k in "ABGIJ":
        assess(w, c[k], level="high", at=ago(now, 40))
    assess(w, c["C"], level="high", at=ago(now, 5))
    assess(w, c["D"], level="severe", at=ago(now, 60))
    assess(w, c["D"], level="low", at=ago(now, 50))
    assess(w, c["D"], level="high", at=ago(now, 35))
    assess(w, c["E"], level="high", at=ago(now, 40))
    assess(w, c["F"], level="high", at=ago(now, 30, hours=1))
    assess(w, c["H"], level="high", at=ago(now, 40))
    assess(w, c["H"], level="medium", computed="low", at=ago(now, 2))
    today = timezone.localdate()
    m1, (e1,) = meeting(w, agency=w.police, held_on=today - 10 * DAY, cases=(c["B"],))
    m2, _ = meeting(w, agency=w.police, held_on=today - 45 * DAY, cases=(c["E"],), minutes="signed")
    m3, _ = meeting(w, agency=w.police, held_on=today - 3 * DAY, minutes="draft")
    m4, (e4,) = meeting(w, agency=w.health, held_on=today - 4 * DAY, cases=(c["I"],),
                        chair=w.receiving_supervisor)
    meeting(w, agency=w.police, cases=(c["A"],))
    plan_item(w, e1, owner=w.police, due=ago(now, 2))
    plan_item(w, e1, owner=w.health, due=ago(now, 3))
    plan_item(w, e1, owner=w.health, due=ago(now, 1))
    plan_item(w, e1, owner=w.health, due=now + DAY)
    plan_item(w, e1, owner=w.police, due=ago(now, 5), status="done", finished=ago(now, 4))
    plan_item(w, e4, owner=w.school, due=ago(now, 2))
    return {"cases": c, "meetings": (m1, m2, m3, m4), "now": now}


def numbers(cases, keys):
    return [cases[k].number for k in keys]


def test_high_risk_cases_without_a_meeting_within_n_days(world, followup):
    c = followup["cases"]
    listed = list(high_risk_without_meeting(agency=world.police, now=followup["now"]))
    assert [case.number for case in listed] == numbers(c, "AEDF")
    assert listed[0].latest_level == "high" and listed[0].high_since < followup["now"] - 39 * DAY
    assert [case.number for case in high_risk_without_meeting(agency=world.health, now=followup["now"])] == \
        numbers(c, "J")
    assert not high_risk_without_meeting(agency=world.school, now=followup["now"]).exists()
    # N is a setting: at 36 days, D (high for 35 days) and F (30) drop out.
    assert [case.number for case in high_risk_without_meeting(agency=world.police, now=followup["now"],
                                                              within_days=36)] == numbers(c, "AE")


def test_overdue_plan_items_by_agency(world, followup):
    police = plan_items_overdue_by_agency(agency=world.police, now=followup["now"])
    assert [(r.agency_id, r.overdue) for r in police] == [(world.police.pk, 1), (world.health.pk, 2)]
    # Health owns two overdue items of police's meeting and coordinates M4 (the school's item).
    health = plan_items_overdue_by_agency(agency=world.health, now=followup["now"])
    assert [(r.agency_id, r.overdue) for r in health] == [(world.health.pk, 2), (world.school.pk, 1)]
    school = plan_items_overdue_by_agency(agency=world.school, now=followup["now"])
    assert [(r.agency_id, r.overdue) for r in school] == [(world.school.pk, 1)]


def test_queue_lists_lowered_levels_and_meetings_without_signed_minutes(world, followup):
    c = followup["cases"]
    m1, _m2, m3, m4 = followup["meetings"]
    # H (high → medium, 2 days ago) and D (severe → low → high: lower than its severe).
    assert [case.number for case in queue_risk_lowered(agency=world.police)] == numbers(c, "HD")
    lowered = queue_risk_lowered(agency=world.police).first()
    assert lowered.latest_level == "medium" and lowered.highest_rank > lowered.latest_rank
    assert [m.pk for m in queue_meetings_without_minutes(agency=world.police)] == [m1.pk, m3.pk]
    assert [m.pk for m in queue_meetings_without_minutes(agency=world.health)] == [m4.pk]
    assert not queue_meetings_without_minutes(agency=world.school).exists()
    assert not queue_risk_lowered(agency=world.health).exists()
    queue = review_queue(agency=world.police)
    assert queue.risk_lowered_count == 2 and queue.meetings_without_minutes_count == 2
    # Re-assessed high again: no longer lowered.
    assess(world, c["H"], level="high", at=timezone.now())
    assert [case.number for case in queue_risk_lowered(agency=world.police)] == numbers(c, "D")


def test_a_level_below_an_earlier_peak_stays_until_reached_again(world, followup):
    """D went severe → low → high: its latest is lower than the severe one, so it is listed until a
    new assessment reaches severe ("lower than an earlier one's"); a closed case leaves the lists."""
    c = followup["cases"]
    assess(world, c["H"], level="high", at=timezone.now())
    assert [case.number for case in queue_risk_lowered(agency=world.police)] == numbers(c, "D")
    assess(world, c["D"], level="severe", at=timezone.now())
    assert not queue_risk_lowered(agency=world.police).exists()
    Case.objects.filter(pk=c["A"].pk).update(status="closed", closed_at=timezone.now())
    assert c["A"].number not in [x.number for x in high_risk_without_meeting(agency=world.police)]


def test_dashboard_counts_and_pending_reviews(world, followup):
    board = dashboard(agency=world.police, now=followup["now"])
    assert board.high_risk_without_meeting_count == 4 and board.meeting_within_days == 30
    assert board.pending_reviews["risk_lowered"] == 2 and board.pending_reviews["meeting_without_minutes"] == 2


def test_pages_show_the_agencys_own_and_nothing_of_others(world, followup, web, django_assert_max_num_queries):
    c = followup["cases"]
    m1, _m2, _m3, m4 = followup["meetings"]
    police = web(world.lead_supervisor)
    with django_assert_max_num_queries(30):
        body = police.get("/supervision/dashboard/").content.decode()
    assert 'data-testid="high-risk-without-meeting"' in body and 'data-testid="plan-items-overdue"' in body
    for k in "AEDF":
        assert c[k].number in body
    assert c["J"].number not in body and c["B"].number not in body
    with django_assert_max_num_queries(30):
        queue = police.get("/supervision/reviews/").content.decode()
    assert c["H"].number in queue and c["D"].number in queue and f'data-testid="meeting-{m1.pk}"' in queue
    assert f'data-testid="meeting-{m4.pk}"' not in queue
    health = web(world.receiving_supervisor)
    body = health.get("/supervision/dashboard/").content.decode() + health.get("/supervision/reviews/").content.decode()
    assert c["J"].number in body and f'data-testid="meeting-{m4.pk}"' in body
    for k in "AEDFH":
        assert c[k].number not in body
    assert f'data-testid="meeting-{m1.pk}"' not in body
    # Another agency's supervisor cannot ask for the police's pages.
    outsider = web(world.outsider_supervisor)
    for path in ("/supervision/dashboard/", "/supervision/reviews/"):
        assert outsider.get(f"{path}?agency={world.police.pk}").status_code == 403
        assert c["A"].number not in outsider.get(path).content.decode()


@pytest.mark.parametrize("who", ["lead_responder", "analyst", None])
def test_responders_analysts_and_anonymous_are_refused(world, followup, web, api, who):
    user = getattr(world, who) if who else None
    for path in ("/supervision/dashboard/", "/supervision/reviews/"):
        response = web(user).get(path)
        assert response.status_code in ((302,) if user is None else (403,)), (who, path)
    for path in ("/api/supervision/dashboard/", "/api/supervision/reviews/queue/"):
        assert api(user).get(path).status_code == 403, (who, path)


def test_api_gives_the_same_within_a_budget(world, followup, api, django_assert_max_num_queries):
    c = followup["cases"]
    m1, _m2, m3, _m4 = followup["meetings"]
    client = api(world.lead_supervisor)
    with django_assert_max_num_queries(25):
        board = client.get("/api/supervision/dashboard/").json()
    assert [r["case_number"] for r in board["high_risk_without_meeting"]] == numbers(c, "AEDF")
    assert board["high_risk_without_meeting_count"] == 4 and board["meeting_within_days"] == 30
    assert [(r["agency_id"], r["overdue"]) for r in board["plan_items_overdue"]] == [
        (world.police.pk, 1), (world.health.pk, 2)]
    with django_assert_max_num_queries(25):
        queue = client.get("/api/supervision/reviews/queue/").json()
    assert [r["case_number"] for r in queue["risk_lowered"]] == numbers(c, "HD")
    assert [m["id"] for m in queue["meetings_without_minutes"]] == [m1.pk, m3.pk]
    outsider = api(world.outsider_supervisor)
    body = outsider.get("/api/supervision/dashboard/").json()
    assert body["high_risk_without_meeting"] == []
    assert [(r["agency_id"], r["overdue"]) for r in body["plan_items_overdue"]] == [(world.school.pk, 1)]
    assert outsider.get(f"/api/supervision/reviews/queue/?agency={world.police.pk}").status_code == 403
