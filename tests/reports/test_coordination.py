"""Referrals, deadlines and takedown requests of October 2026 against their hand counts (see the
comments of each fixture), before and after disclosure control; the boundaries of months and of
"within the deadline"; the median in the database.

Handoffs, deadlines and takedown requests are made by their services; their timestamps are then
set with .update() so that every value is known exactly.
"""

import datetime
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from agencies.models import Sector
from agencies.services import agency_create, membership_add
from cases.models import Case
from cases.selectors import case_get_for_user
from cases.services import action_log
from cases.sharing import case_permissions_sync
from handoffs.models import Handoff
from handoffs.services import handoff_accept, handoff_complete, handoff_decline, handoff_withdraw
from notifications.models import Deadline
from notifications.services import deadline_create
from reports import coordination
from reports.coordination import URGENCIES, StatisticDraft, grouped_medians, month_statistics
from reports.indicators import INDICATORS, Month, month_drafts, month_scope_provinces, month_snapshot
from reports.publication import month_publishable, statistic_data
from takedowns.services import takedown_outcome_record, takedown_request_record
from tests.cases.services_helpers import consent_record_through_edge, handoff_send_through_edge
from tests.conftest import make_user, time_limits_ensure

from .conftest import OCTOBER, draft_cells, draft_get, local, make_case

HOUR = datetime.timedelta(hours=1)




@pytest.fixture
def time_limits(db):
    time_limits_ensure()


def shared_case(world, *, lead, province=None, created_at=None, consent=True) -> Case:
    case = make_case(world, created_at=created_at or local(2026, 9, 1), birth_year=1995, lead=lead,
                     province=province, consent=consent)
    case_permissions_sync(case=case)
    return case


def refer(world, case, *, sender, to, urgency="urgent", kind="referral") -> Handoff:
    access = case_get_for_user(user=sender, case_id=case.pk, require="manage_sharing")
    consent_record_through_edge(access=access, actor=sender, data={
        "receiving_agency": to.pk, "granted_categories": ["psychosocial"], "purpose": "Hỗ trợ tâm lý",
        "given_by": "survivor",
    })
    return handoff_send_through_edge(access=case_get_for_user(user=sender, case_id=case.pk, require="manage_sharing"),
                        actor=sender, data={"kind": kind, "to_agency": to.pk, "services": ["counselling"],
                                            "urgency": urgency, "categories": []})


def timed(handoff, *, sent, wait=None, deadline=None, answered=None):
    """Sent at `sent`, due `deadline` after it, answered `wait` after it (or at `answered`)."""
    due = sent + (deadline or 12 * HOUR)
    responded = answered or (sent + wait if wait is not None else None)
    Handoff.objects.filter(pk=handoff.pk).update(sent_at=sent, due_at=due, responded_at=responded)


@pytest.fixture
def referrals(world, time_limits):
    """Referrals of October 2026 (Hà Nội unless said), made and answered through the services:

    R1  police→health   urgent     accepted after 2 h (due 12 h)                  within
    R2  police→health   standard   accepted after 30 h, exactly at the due time    within
    R3  police→health   emergency  accepted after 3 h (due 1 h)                   after
    R4  police→health   urgent     declined
    R5  police→school   standard   no answer yet (the school is in Huế; the case in Hà Nội)
    R6  police→WU       urgent     withdrawn before an answer ("other" sector)
    R7  police→health   urgent     accepted after 5 h, then completed             within
    R8  health→police   standard   accepted after 10 h, then withdrawn            within
    R9  school→health   standard   accepted after 20 h; a Huế case                within
    R10 sent 23:59:59 on 30 September (local): not October
    R11 police→health   urgent     sent 00:00:00 on 1 October, accepted after 1 h within
    R12 sent 00:00:00 on 1 November: not October
    R13 a transfer in October: not a referral
    R14 a referral of a case without statistics consent: left out

    Medians (hours): national all 1,2,3,5,10,20,30 → 5; urgent 1,2,5 → 2; standard 10,20,30 → 20;
    emergency 3. Hà Nội all 1,2,3,5,10,30 → (3+5)/2 = 4; standard 10,30 → 20. Huế 20.
    """
    w = world
    women = agency_create(name="Hội LHPN phường Ba Đình", sector=Sector.WOMENS_UNION, province=w.hanoi)
    women_responder = make_user("hoi_phu_nu")
    membership_add(user=women_responder, agency=women, role="responder")
    police, health, school = w.lead_responder, w.receiving_responder, w.outsider_responder
    oct5 = local(2026, 10, 5, 10)
    made = {}

    def police_case(**extra):
        return shared_case(w, lead=w.police, **extra)

    made[1] = refer(w, police_case(), sender=police, to=w.health, urgency="urgent")
    handoff_accept(user=health, handoff_id=made[1].pk)
    timed(made[1], sent=oct5, wait=2 * HOUR, deadline=12 * HOUR)
    made[2] = refer(w, police_case(), sender=police, to=w.health, urgency="standard")
    handoff_accept(user=health, handoff_id=made[2].pk)
    timed(made[2], sent=oct5, wait=30 * HOUR, deadline=30 * HOUR)
    made[3] = refer(w, police_case(), sender=police, to=w.health, urgency="emergency")
    handoff_accept(user=health, handoff_id=made[3].pk)
    timed(made[3], sent=oct5, wait=3 * HOUR, deadline=HOUR)
    made[4] = refer(w, police_case(), sender=police, to=w.health, urgency="urgent")
    handoff_decline(user=health, handoff_id=made[4].pk, reason="Không đủ giường")
    timed(made[4], sent=oct5, wait=HOUR)
    made[5] = refer(w, police_case(), sender=police, to=w.school, urgency="standard")
    timed(made[5], sent=local(2026, 10, 30, 16), deadline=72 * HOUR)
    made[6] = refer(w, police_case(), sender=police, to=women, urgency="urgent")
    handoff_withdraw(user=police, handoff_id=made[6].pk, reason="Gửi nhầm")
    timed(made[6], sent=oct5)
    made[7] = refer(w, police_case(), sender=police, to=w.health, urgency="urgent")
    handoff_accept(user=health, handoff_id=made[7].pk)
    handoff_complete(user=health, handoff_id=made[7].pk, outcome="Đã tư vấn")
    timed(made[7], sent=oct5, wait=5 * HOUR)
    made[8] = refer(w, shared_case(w, lead=w.health), sender=health, to=w.police, urgency="standard")
    handoff_accept(user=police, handoff_id=made[8].pk)
    handoff_withdraw(user=health, handoff_id=made[8].pk, reason="Không còn cần")
    timed(made[8], sent=oct5, wait=10 * HOUR, deadline=72 * HOUR)
    made[9] = refer(w, shared_case(w, lead=w.school, province=w.hue), sender=school, to=w.health,
                    urgency="standard")
    handoff_accept(user=health, handoff_id=made[9].pk)
    timed(made[9], sent=oct5, wait=20 * HOUR, deadline=72 * HOUR)
    made[10] = refer(w, police_case(), sender=police, to=w.health, urgency="urgent")
    handoff_accept(user=health, handoff_id=made[10].pk)
    timed(made[10], sent=local(2026, 9, 30, 23, 59, 59), wait=HOUR)
    made[11] = refer(w, police_case(), sender=police, to=w.health, urgency="urgent")
    handoff_accept(user=health, handoff_id=made[11].pk)
    timed(made[11], sent=local(2026, 10, 1, 0, 0, 0), wait=HOUR)
    made[12] = refer(w, police_case(), sender=police, to=w.health, urgency="urgent")
    timed(made[12], sent=local(2026, 11, 1, 0, 0, 0))
    made[13] = refer(w, police_case(), sender=police, to=w.health, urgency="urgent", kind="transfer")
    handoff_accept(user=health, handoff_id=made[13].pk)
    timed(made[13], sent=oct5, wait=HOUR)
    made[14] = refer(w, police_case(consent=False), sender=police, to=w.health, urgency="urgent")
    handoff_accept(user=health, handoff_id=made[14].pk)
    timed(made[14], sent=oct5, wait=HOUR)
    # The response deadlines the services opened are not about October: move them away from it.
    Deadline.objects.update(due_at=local(2026, 12, 15), remind_at=local(2026, 12, 15), escalate_at=local(2026, 12, 16))
    return made


def test_referrals_by_response_and_urgency(referrals):
    _, drafts = month_drafts(OCTOBER)
    assert draft_cells(draft_get(drafts, None, "referrals_by_response")) == {
        ("accepted", "emergency"): 1, ("accepted", "urgent"): 3, ("accepted", "standard"): 3,
        ("declined", "urgent"): 1, ("withdrawn", "urgent"): 1, ("awaiting", "standard"): 1,
    }
    assert draft_cells(draft_get(drafts, "46", "referrals_by_response")) == {("accepted", "standard"): 1}
    assert sum(map(sum, draft_get(drafts, "01", "referrals_by_response").cells)) == 9


def test_accepted_within_the_deadline_counts_an_answer_exactly_at_the_deadline(referrals):
    _, drafts = month_drafts(OCTOBER)
    table = draft_get(drafts, None, "referrals_accepted_in_time")
    assert table.fixed == (("referral_response", "accepted"),)
    assert draft_cells(table) == {
        ("within_deadline", "urgent"): 3, ("within_deadline", "standard"): 3, ("after_deadline", "emergency"): 1,
    }


def test_one_second_late_is_after_the_deadline(referrals):
    sent = local(2026, 10, 5, 10)
    Handoff.objects.filter(pk=referrals[2].pk).update(responded_at=sent + 30 * HOUR + datetime.timedelta(seconds=1))
    _, drafts = month_drafts(OCTOBER)
    assert draft_cells(draft_get(drafts, None, "referrals_accepted_in_time"))[("after_deadline", "standard")] == 1


def test_referrals_by_sending_and_receiving_sector(referrals):
    _, drafts = month_drafts(OCTOBER)
    assert draft_cells(draft_get(drafts, None, "referrals_by_sector")) == {
        ("police", "health"): 6, ("police", "education"): 1, ("police", "other"): 1, ("health", "police"): 1,
        ("education", "health"): 1,
    }
    assert draft_cells(draft_get(drafts, "46", "referrals_by_sector")) == {("education", "health"): 1}


def test_median_time_to_accept_per_scope_and_urgency(referrals, django_assert_max_num_queries):
    month = Month(period=OCTOBER, province_codes=("01", "46"), province_names={})
    with django_assert_max_num_queries(4):
        statistics = month_statistics(month)
    values = {scope: dict(zip(s[0].rows, s[0].values, strict=True)) for scope, s in statistics.items()}
    assert values[None] == {"all": 5.0, "emergency": 3.0, "urgent": 2.0, "standard": 20.0}
    assert values["01"] == {"all": 4.0, "emergency": 3.0, "urgent": 2.0, "standard": 20.0}
    assert values["46"] == {"all": 20.0, "emergency": None, "urgent": None, "standard": 20.0}


def test_both_median_methods_agree(referrals):
    """The window-function method (SQLite) is portable; on PostgreSQL it must agree with
    percentile_cont, here and on ties and odd/even groups."""
    month = Month(period=OCTOBER, province_codes=("01", "46"), province_names={})
    accepted = coordination.referrals_sent(month).filter(coordination._accepted())
    wait = coordination.ExpressionWrapper(
        coordination.F("responded_at") - coordination.F("sent_at"), output_field=coordination.DurationField()
    )
    for fields in [("case__province__code", "urgency"), ("case__province__code",), ("urgency",), ()]:
        window = coordination._window_medians(accepted, wait, fields)
        assert window == grouped_medians(accepted, wait, fields)
        if connection.vendor == "postgresql":
            assert window == coordination._percentile_medians(accepted, wait, fields)


def test_month_edges_of_referrals_are_those_of_asia_ho_chi_minh(referrals):
    _, drafts = month_drafts(OCTOBER)
    total = sum(map(sum, draft_get(drafts, None, "referrals_by_response").cells))
    assert total == 10  # R1–R9 and R11; not R10 (30 Sept 23:59:59), R12 (1 Nov 00:00), R13, R14
    _, september = month_drafts(datetime.date(2026, 9, 1))
    assert draft_cells(draft_get(september, None, "referrals_by_response")) == {("accepted", "urgent"): 1}
    _, november = month_drafts(datetime.date(2026, 11, 1))
    assert draft_cells(draft_get(november, None, "referrals_by_response")) == {("awaiting", "urgent"): 1}


def test_the_median_is_published_only_where_its_count_is(referrals, busy_month_settings):
    _, publishable = month_publishable(OCTOBER)
    for data in publishable.values():
        statistic = next(s for s in data["statistics"] if s["key"] == "median_time_to_accept")
        table = next(t for t in data["tables"] if t["key"] == "referrals_by_response")
        accepted = table["rows"].index("accepted")
        basis = [table["row_totals"][accepted]] + table["cells"][accepted]
        for value, count in zip(statistic["values"], basis, strict=True):
            if isinstance(count, int) and count > 0:
                assert isinstance(value, float)
            elif count == 0 or count is None:  # nothing, or a withheld table
                assert value is None
            else:
                assert value == "x"
    # So few referrals that every count behind a median is hidden here, and so is every median.
    assert publishable[None]["statistics"][0]["values"] == ["x", "x", "x", "x"]
    assert publishable["46"]["statistics"][0]["values"] == ["x", None, None, "x"]


def test_statistic_publication_rule():
    table = {
        "key": "referrals_by_response", "withheld": False, "rows": ["accepted", "declined"],
        "columns": [["emergency"], ["urgent"], ["standard"]],
        "cells": [["<5", 12, 0], [0, 3, 0]], "row_totals": [15, 3], "column_totals": [], "total": 18,
    }
    draft = StatisticDraft(
        key="median_time_to_accept", unit="hours", row_dim="urgency_or_all", rows=["all", *URGENCIES],
        values=[4.5, 0.5, 3.0, None], scope=None,
        basis=[("referrals_by_response", "accepted", None)] + [
            ("referrals_by_response", "accepted", (u,)) for u in URGENCIES],
    )
    assert statistic_data(draft, [table])["values"] == [4.5, "x", 3.0, None]
    assert statistic_data(draft, [{**table, "withheld": True}])["values"] == [None, None, None, None]
    assert statistic_data(draft, [])["values"] == [None, None, None, None]


@pytest.fixture
def busy_month_settings(settings):
    settings.REPORT_SMALL_COUNT_THRESHOLD = 4
    return settings


def test_referral_tables_share_their_counts_with_each_other(referrals, busy_month_settings):
    """The accepted row of referrals_by_response is the column totals of referrals_accepted_in_time,
    and the grand totals of the response and sector tables are one count: hidden in all or none."""
    _, publishable = month_publishable(OCTOBER)
    for data in publishable.values():
        tables = {t["key"]: t for t in data["tables"]}
        response, in_time, sector = (tables[k] for k in (
            "referrals_by_response", "referrals_accepted_in_time", "referrals_by_sector"))
        if any(t["withheld"] for t in (response, in_time, sector)):
            continue
        accepted = response["rows"].index("accepted")
        assert response["cells"][accepted] == in_time["column_totals"]
        assert response["row_totals"][accepted] == in_time["total"]
        assert response["total"] == sector["total"]


# --- Deadlines -----------------------------------------------------------------------------------


def deadline(world, *, kind, due, closed=None, agency=None, case=None):
    row = deadline_create(
        kind=kind, subject=f"test:{kind}:{due.isoformat()}", owner_agency=agency or world.police, due_at=due,
        start=due - datetime.timedelta(days=1), case_id=case.pk if case else None,
        case_number=case.number if case else "",
    )
    if closed is not None:
        Deadline.objects.filter(pk=row.pk).update(stage="closed", closed_at=closed, next_fire_at=None)
    else:
        Deadline.objects.filter(pk=row.pk).update(stage="overdue")
    return row


@pytest.fixture
def deadlines(world, time_limits):
    """Deadlines due in October 2026 (the police's in Hà Nội unless said):

    D1  handoff_response due 10 Oct 12:00, closed an hour before          met
    D2  handoff_response due 10 Oct 12:00, closed exactly at 12:00        met
    D3  handoff_response due 10 Oct 12:00, closed at 12:00:01             missed
    D4  follow_up        due 20 Oct, still open                           missed
    D5  legal_limit      due 31 Oct 23:59:59, still open                  missed
    D6  action_plan      due 1 Nov 00:00: not October
    D7  follow_up        due 1 Oct 00:00, closed before                   met
    D8  follow_up        due 15 Oct, of a case without statistics consent: left out
    D9  legal_limit      due 12 Oct, about no case, still open            missed
    D10 follow_up        due 3 Oct, owed by the school (Huế), open         missed (Huế)
    """
    w = world
    noon = local(2026, 10, 10, 12)
    consented = make_case(w, created_at=local(2026, 9, 1))
    unconsented = make_case(w, created_at=local(2026, 9, 1), consent=False)
    deadline(w, kind="handoff_response", due=noon, closed=noon - HOUR, case=consented)
    deadline(w, kind="handoff_response", due=noon, closed=noon, case=consented)
    deadline(w, kind="handoff_response", due=noon, closed=noon + datetime.timedelta(seconds=1), case=consented)
    deadline(w, kind="follow_up", due=local(2026, 10, 20), case=consented)
    deadline(w, kind="legal_limit", due=local(2026, 10, 31, 23, 59, 59), case=consented)
    deadline(w, kind="action_plan", due=local(2026, 11, 1, 0, 0), case=consented)
    deadline(w, kind="follow_up", due=local(2026, 10, 1, 0, 0), closed=local(2026, 9, 30, 20), case=consented)
    deadline(w, kind="follow_up", due=local(2026, 10, 15), case=unconsented)
    deadline(w, kind="legal_limit", due=local(2026, 10, 12))
    deadline(w, kind="follow_up", due=local(2026, 10, 3), agency=w.school)


def test_deadlines_missed_by_kind(deadlines):
    _, drafts = month_drafts(OCTOBER)
    assert draft_cells(draft_get(drafts, None, "deadlines_missed")) == {
        ("handoff_response", "met"): 2, ("handoff_response", "missed"): 1,
        ("follow_up", "met"): 1, ("follow_up", "missed"): 2,
        ("legal_limit", "missed"): 2,
    }
    assert draft_cells(draft_get(drafts, "46", "deadlines_missed")) == {("follow_up", "missed"): 1}
    assert draft_cells(draft_get(drafts, "01", "deadlines_missed"))[("follow_up", "missed")] == 1


def test_a_deadline_province_gets_a_report_even_without_other_data(world, time_limits):
    deadline(world, kind="follow_up", due=local(2026, 10, 3), agency=world.school)
    codes, _names = month_scope_provinces(OCTOBER)
    assert "46" in codes


# --- Takedown requests ---------------------------------------------------------------------------


@pytest.fixture
def takedowns(world):
    """Takedown requests of October 2026, by the police on Hà Nội cases unless said:

    T1 Facebook removed; T2 Facebook pending; T3 TikTok refused; T4 Zalo no response;
    T5 a takedown_requested action logged without a request record: not recorded;
    T6 YouTube removed, by the school on a Huế case; T7 Facebook on 1 November 00:00: not October;
    T8 Telegram on a case without statistics consent: left out.
    """
    w = world

    def request(case, user, platform, at, result=None):
        access = case_get_for_user(user=user, case_id=case.pk)
        takedown = takedown_request_record(access=access, actor=user, data={
            "platform": platform, "content_reference": f"https://{platform}.example/{case.pk}/{at:%d%H}",
            "occurred_at": at})
        if result:
            takedown_outcome_record(access=access, actor=user, takedown_id=takedown.pk,
                                    data={"outcome": result, "resolved_at": at + HOUR})
        return takedown

    hanoi = shared_case(w, lead=w.police)
    hue = shared_case(w, lead=w.school, province=w.hue)
    other = shared_case(w, lead=w.police, consent=False)
    request(hanoi, w.lead_responder, "facebook", local(2026, 10, 2, 9), "removed")
    request(hanoi, w.lead_responder, "facebook", local(2026, 10, 3, 9))
    request(hanoi, w.lead_responder, "tiktok", local(2026, 10, 4, 9), "refused")
    request(hanoi, w.lead_responder, "zalo", local(2026, 10, 5, 9), "no_response")
    action_log(access=case_get_for_user(user=w.lead_responder, case_id=hanoi.pk), actor=w.lead_responder,
               data={"type": "takedown_requested", "occurred_at": local(2026, 10, 6, 9)})
    request(hue, w.outsider_responder, "youtube", local(2026, 10, 7, 9), "removed")
    request(hanoi, w.lead_responder, "facebook", local(2026, 11, 1, 0, 0))
    request(other, w.lead_responder, "telegram", local(2026, 10, 8, 9))


def test_takedown_requests_by_outcome_and_platform(takedowns):
    _, drafts = month_drafts(OCTOBER)
    table = draft_get(drafts, None, "takedown_requests")
    assert draft_cells(table) == {
        ("removed", "facebook"): 1, ("pending", "facebook"): 1, ("refused", "tiktok"): 1,
        ("no_response", "zalo"): 1, ("not_recorded", "not_recorded"): 1, ("removed", "youtube"): 1,
    }
    assert table.fixed == (("action_type", "takedown_requested"),)
    # The same requests as the takedown column of the actions table.
    actions = draft_get(drafts, None, "actions_by_sector")
    column = actions.columns.index(("takedown_requested",))
    assert sum(row[column] for row in actions.cells) == sum(map(sum, table.cells)) == 6
    assert draft_cells(draft_get(drafts, "46", "takedown_requests")) == {("removed", "youtube"): 1}


# --- Consistency ---------------------------------------------------------------------------------


def test_every_new_table_is_one_query_and_scopes_are_complete(referrals, deadlines, takedowns,
                                                              django_assert_max_num_queries):
    with django_assert_max_num_queries(len(INDICATORS) + 12):
        _, drafts = month_drafts(OCTOBER)
    assert set(drafts) == {None, "01", "46"}
    for key in ("referrals_by_response", "referrals_accepted_in_time", "referrals_by_sector", "deadlines_missed",
                "takedown_requests"):
        national = draft_get(drafts, None, key)
        provinces = [draft_get(drafts, code, key) for code in ("01", "46")]
        for i, row in enumerate(national.cells):
            for j, value in enumerate(row):
                assert value == sum(p.cells[i][j] for p in provinces), (key, i, j)


@pytest.mark.django_db(transaction=True)
def test_a_month_is_read_in_one_snapshot_on_postgresql(world):
    """Outside a caller's transaction every indicator query of a month runs in one REPEATABLE READ
    transaction on PostgreSQL, so that linked counts cannot disagree."""
    seen = []

    def probe(month):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SHOW transaction_isolation")
                seen.append(cursor.fetchone()[0])
            else:
                seen.append(connection.in_atomic_block)
        return {}

    INDICATORS["probe"] = probe
    try:
        assert not transaction.get_connection().in_atomic_block
        with month_snapshot():
            month_drafts(OCTOBER)
    finally:
        del INDICATORS["probe"]
    assert seen == (["repeatable read"] if connection.vendor == "postgresql" else [False])


def test_scope_lookups_return_one_row_per_province_not_per_row(referrals, deadlines, takedowns):
    """The models' default ordering used to join SELECT DISTINCT, which then returned one row per
    incident, case, action or handoff of the month instead of one per province."""
    with CaptureQueriesContext(connection) as captured:
        codes, _names = month_scope_provinces(OCTOBER)
    assert codes == ("01", "46")
    distinct = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT DISTINCT")]
    assert len(distinct) == 9  # reports.meetings' four tables share one
    for sql in distinct:
        assert re.match(r'SELECT DISTINCT "\w+"\."\w+"( AS "\w+")? FROM', sql), sql
