"""Issue 17's tables of October 2026 against their hand counts (reports.meetings): high-risk
assessments, case meetings held, cases discussed and action plan items by outcome. Rows are created
straight from the models, as the other report tests do: this is about counting what is stored.
Synthetic data only."""

import datetime

import pytest

from reports.indicators import month_drafts
from reports.publication import month_publishable
from risk.models import RiskAssessment
from tests.conferences.rows import assess, meeting, plan_item

from .conftest import OCTOBER, draft_cells, draft_get, local, make_case


@pytest.fixture
def risk_month(world):
    """Cases: A Hà Nội (police lead), B Hà Nội (health lead), C Huế (school lead), D Hà Nội without
    statistics consent.

    Assessments: A high on 5 Oct and severe at 23:30 local on 31 Oct (both October); B medium (not
    high); B high at 00:10 local on 1 Nov (17:10 UTC on 31 Oct: November); C high with the child
    form; D severe (no consent: left out); A's colleague's draft (not completed).
    Meetings: M1 held 8 Oct by Hà Nội police, in person, agenda A, B, D; M2 held 20 Oct by the Huế
    school by call, agenda C; M3 only scheduled (agenda A); M4 held 30 Sept by Hà Nội health (agenda B).
    Plan items: P1 A police due 10 Oct done an hour early (on time); P2 A health due 12 Oct done 13
    Oct (late); P3 C school due 25 Oct still open (overdue); P4 C owned by Hà Nội police due 26 Oct
    done exactly at the due time (on time, in Hà Nội: the owner agency's province); P5 cancelled;
    P6 due 00:30 local on 1 Nov (November); P7 of D (no consent)."""
    w = world
    a = make_case(w, created_at=local(2026, 9, 1))
    b = make_case(w, created_at=local(2026, 9, 1), lead=w.health)
    c = make_case(w, created_at=local(2026, 9, 1), province=w.hue, lead=w.school, birth_year=2014)
    d = make_case(w, created_at=local(2026, 9, 1), consent=False)
    assess(w, a, level="high", at=local(2026, 10, 5))
    assess(w, a, level="severe", computed="high", at=local(2026, 10, 31, 23, 30))
    assess(w, b, level="medium", at=local(2026, 10, 6))
    assess(w, b, level="high", at=local(2026, 11, 1, 0, 10))
    assess(w, c, level="high", at=local(2026, 10, 10), variant="child")
    assess(w, d, level="severe", at=local(2026, 10, 11))
    RiskAssessment.objects.create(case=a, instrument_code="hopluc-risk", instrument_version="1", variant="adult",
                                  assessor=w.receiving_responder, agency=w.health)
    _m1, (ea, _eb, ed) = meeting(w, agency=w.police, held_on=datetime.date(2026, 10, 8), cases=(a, b, d))
    _m2, (ec,) = meeting(w, agency=w.school, held_on=datetime.date(2026, 10, 20), mode="call", cases=(c,))
    meeting(w, agency=w.police, cases=(a,))
    meeting(w, agency=w.health, held_on=datetime.date(2026, 9, 30), cases=(b,))
    plan_item(w, ea, owner=w.police, due=local(2026, 10, 10, 12), status="done", finished=local(2026, 10, 10, 11))
    plan_item(w, ea, owner=w.health, due=local(2026, 10, 12, 12), status="done", finished=local(2026, 10, 13, 9))
    plan_item(w, ec, owner=w.school, due=local(2026, 10, 25, 17))
    plan_item(w, ec, owner=w.police, due=local(2026, 10, 26, 17), status="done", finished=local(2026, 10, 26, 17))
    plan_item(w, ea, owner=w.police, due=local(2026, 10, 20), status="cancelled", finished=local(2026, 10, 15))
    plan_item(w, ea, owner=w.police, due=local(2026, 11, 1, 0, 30))
    plan_item(w, ed, owner=w.police, due=local(2026, 10, 15))
    return w


@pytest.fixture
def drafts(risk_month):
    _, drafts = month_drafts(OCTOBER)
    return drafts


def test_scopes_include_every_province_with_data(drafts):
    assert set(drafts) == {None, "01", "46"}


# The hand counts, by table and scope (None: the whole country).
HAND_COUNTS = {
    # By level and form.
    "high_risk_assessments": {
        None: {("high", "adult"): 1, ("severe", "adult"): 1, ("high", "child"): 1},
        "01": {("high", "adult"): 1, ("severe", "adult"): 1},
        "46": {("high", "child"): 1},
    },
    # By mode, in the coordinating agency's province.
    "meetings_held": {
        None: {("in_person", ""): 1, ("call", ""): 1},
        "01": {("in_person", ""): 1},
        "46": {("call", ""): 1},
    },
    # By lead sector.
    "cases_discussed": {
        None: {("police", ""): 1, ("health", ""): 1, ("education", ""): 1},
        "46": {("education", ""): 1},
    },
    # On time, late and still open, by owner sector.
    "plan_items_on_time": {
        None: {("on_time", "police"): 2, ("late", "health"): 1, ("open_overdue", "education"): 1},
        "01": {("on_time", "police"): 2, ("late", "health"): 1},
        "46": {("open_overdue", "education"): 1},
    },
}


@pytest.mark.parametrize("table", HAND_COUNTS)
def test_each_table_matches_its_hand_counts(drafts, table):
    for scope, cells in HAND_COUNTS[table].items():
        assert draft_cells(draft_get(drafts, scope, table)) == cells, scope


def test_the_new_tables_are_published_under_disclosure_control(risk_month, settings):
    """Every count here is small: published as "<t" or hidden, never as a number; the child form's
    counts have the child threshold."""
    settings.REPORT_SMALL_COUNT_THRESHOLD, settings.REPORT_CHILD_THRESHOLD = 5, 10
    _, publishable = month_publishable(OCTOBER)
    keys = {"high_risk_assessments", "meetings_held", "cases_discussed", "plan_items_on_time"}
    seen = set()
    for data in publishable.values():
        for table in data["tables"]:
            if table["key"] not in keys:
                continue
            seen.add(table["key"])
            entries = [v for row in table["cells"] for v in row] + table["row_totals"] + table["column_totals"]
            entries.append(table["total"])
            assert all(v in (0, None, "x", "<5", "<10") for v in entries), (table["key"], entries)
            if table["key"] == "high_risk_assessments" and not table["withheld"]:
                assert table["entry_thresholds"]["column_totals"] == [5, 10]
    assert seen == keys
