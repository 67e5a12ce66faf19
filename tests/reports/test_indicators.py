"""Every indicator of the October 2026 fixture month against its hand count (see conftest.october),
before disclosure control; and the boundaries of months, ages and windows."""

import datetime

import pytest

from cases.models import Incident
from reports.indicators import INDICATORS, month_drafts
from reports.periods import PeriodError, month_bounds, month_check_complete, month_parse

from .conftest import OCTOBER, draft_cells, draft_get, local, make_action, make_case, make_incident


@pytest.fixture
def drafts(october, django_assert_max_num_queries):
    # One query per indicator table plus the scope lookups (eleven: reports.meetings adds one for its
    # four tables): never a query per case.
    with django_assert_max_num_queries(len(INDICATORS) + 11):
        _, drafts = month_drafts(OCTOBER)
    return drafts


def test_scopes_are_national_and_every_province(drafts):
    assert set(drafts) == {None, "01", "46"}
    assert [d.key for d in drafts[None]] == [k for k in INDICATORS if k != "incidents_by_commune"]
    assert [d.key for d in drafts["01"]] == [k for k in INDICATORS if k != "incidents_by_province"]


def test_new_cases_by_lead_sector_and_sex(drafts):
    assert draft_cells(draft_get(drafts, None, "new_cases")) == {
        ("police", "female"): 4, ("police", "male"): 1, ("police", "other"): 1, ("police", "unknown"): 1,
        ("health", "male"): 1, ("education", "female"): 1,
    }
    assert draft_cells(draft_get(drafts, "46", "new_cases")) == {("education", "female"): 1}
    assert sum(map(sum, draft_get(drafts, "01", "new_cases").cells)) == 8


def test_child_cases_use_the_age_when_the_case_was_opened(drafts):
    assert draft_cells(draft_get(drafts, None, "child_cases")) == {
        ("under_16", "female"): 1, ("under_16", "male"): 1,  # born 2012 and 2015
        ("16_17", "male"): 1, ("16_17", "other"): 1,  # born 2009 (16) and 2008 (17)
        ("18_plus", "female"): 3, ("18_plus", "unknown"): 1,  # 2000, 1965, 1964; 2007 (18)
        ("unknown", "female"): 1,
    }


def test_incidents_by_type_sex_and_age_band(drafts):
    assert draft_cells(draft_get(drafts, None, "incidents_by_type_sex_age")) == {
        ("rape", "female|12-17"): 1, ("rape", "female|18-25"): 1, ("rape", "female|41-60"): 1,
        ("sexual_assault", "female|unknown"): 1, ("sexual_assault", "other|12-17"): 1,
        ("physical_assault", "male|0-11"): 1,
        ("forced_marriage", "male|12-17"): 1,
        ("denial_of_resources", "female|61+"): 1,
        ("psychological_abuse", "female|26-40"): 1,
        ("non_gbv", "unknown|18-25"): 1,
    }
    assert draft_cells(draft_get(drafts, "46", "incidents_by_type_sex_age")) == {
        ("sexual_assault", "female|unknown"): 1
    }


def test_incidents_by_province_and_by_commune(drafts):
    assert draft_cells(draft_get(drafts, None, "incidents_by_province")) == {
        ("01", "rape"): 3, ("01", "sexual_assault"): 1, ("01", "physical_assault"): 1, ("01", "forced_marriage"): 1,
        ("01", "denial_of_resources"): 1, ("01", "psychological_abuse"): 1, ("01", "non_gbv"): 1,
        ("46", "sexual_assault"): 1,
    }
    assert draft_get(drafts, None, "incidents_by_province").row_labels == {"01": "Hà Nội", "46": "Huế"}
    communes = draft_get(drafts, "01", "incidents_by_commune")
    assert draft_cells(communes) == {("00004", ""): 2, ("none", ""): 7}
    assert communes.row_labels["00004"] == "Phường Ba Đình"


def test_technology_facilitated_forms(drafts):
    assert draft_cells(draft_get(drafts, None, "tech_forms")) == {
        ("sextortion", "female"): 1, ("ncii", "female"): 1, ("grooming", "female"): 1,
    }


def test_reporting_delay(drafts):
    assert draft_cells(draft_get(drafts, None, "reporting_delay")) == {
        ("0-3", ""): 3, ("4-5", ""): 1, ("6-14", ""): 2, ("15-30", ""): 1, ("30+", ""): 1, ("unknown", ""): 2,
    }


def test_rape_within_72_hours_and_health_referral(drafts):
    table = draft_get(drafts, None, "rape_within_72h")
    assert table.fixed == (("gbv_type", "rape"),)
    assert draft_cells(table) == {
        ("within_72h", "referred"): 1,  # 2 days apart, medical care by health the next day
        ("day_3", "not_referred"): 1,  # 3 days apart; the referral came 4 days after the report
        ("over_3_days", "referred"): 1,  # 9 days apart, care on the report day
    }


def test_cases_closed_and_actions_by_sector(drafts):
    assert draft_cells(draft_get(drafts, None, "cases_closed")) == {("health", ""): 1}
    assert draft_cells(draft_get(drafts, None, "actions_by_sector")) == {
        ("health", "medical_care"): 2, ("health", "counselling"): 1, ("police", "referral"): 1,
        ("education", "takedown_requested"): 1,
    }


def test_cases_without_statistics_consent_are_left_out_and_counted(drafts):
    assert draft_get(drafts, None, "left_out_cases").cells == [[1]]
    assert draft_get(drafts, None, "left_out_incidents").cells == [[1]]
    assert draft_get(drafts, "46", "left_out_cases").cells == [[0]]
    # The unconsented case's action (medical care) is in no table either.
    assert draft_get(drafts, None, "actions_by_sector").cells[1][1] == 2


@pytest.mark.parametrize(("birth_year", "band"), [
    (2015, "0-11"), (2014, "0-11"), (2013, "12-17"), (2008, "12-17"), (2007, "18-25"), (2000, "18-25"),
    (1999, "26-40"), (1985, "26-40"), (1984, "41-60"), (1965, "41-60"), (1964, "61+"), (2030, "0-11"),
    (None, "unknown"),
])
def test_age_band_edges(world, birth_year, band):
    # Reported in 2026: the age counted is 2026 − birth year − 1, the youngest the survivor can be.
    case = make_case(world, created_at=local(2026, 10, 3), birth_year=birth_year)
    make_incident(world, case, reported_on=datetime.date(2026, 10, 3), gbv_type="rape")
    _, drafts = month_drafts(OCTOBER)
    assert draft_cells(draft_get(drafts, None, "incidents_by_type_sex_age")) == {("rape", f"female|{band}"): 1}


@pytest.mark.parametrize(("created_at", "counted"), [
    (local(2026, 9, 30, 23, 59, 59), False),
    (local(2026, 10, 1, 0, 0, 0), True),
    (datetime.datetime(2026, 9, 30, 17, 0, tzinfo=datetime.UTC), True),  # 00:00 on 1 Oct in Hà Nội
    (datetime.datetime(2026, 10, 31, 16, 59, 59, tzinfo=datetime.UTC), True),
    (local(2026, 11, 1, 0, 0, 0), False),
])
def test_month_edges_are_those_of_asia_ho_chi_minh(world, created_at, counted):
    make_case(world, created_at=created_at)
    _, drafts = month_drafts(OCTOBER)
    assert sum(map(sum, draft_get(drafts, None, "new_cases").cells)) == (1 if counted else 0)


@pytest.mark.parametrize(("occurred_on", "row"), [
    (datetime.date(2026, 10, 10), "within_72h"),
    (datetime.date(2026, 10, 8), "within_72h"),
    (datetime.date(2026, 10, 7), "day_3"),
    (datetime.date(2026, 10, 6), "over_3_days"),
    (None, "unknown"),
])
def test_rape_timeliness_edges(world, occurred_on, row):
    case = make_case(world, created_at=local(2026, 10, 10))
    make_incident(world, case, reported_on=datetime.date(2026, 10, 10), occurred_on=occurred_on, gbv_type="rape")
    _, drafts = month_drafts(OCTOBER)
    assert draft_cells(draft_get(drafts, None, "rape_within_72h")) == {(row, "not_referred"): 1}


@pytest.mark.parametrize(("when", "agency", "category", "action_type", "referred"), [
    (local(2026, 10, 10, 0, 0), "health", "general", "medical_care", True),
    (local(2026, 10, 13, 23, 59), "health", "general", "referral", True),  # third day after the report
    (local(2026, 10, 14, 0, 0), "health", "general", "medical_care", False),  # fourth day
    (local(2026, 10, 9, 23, 59), "health", "general", "medical_care", False),  # before the report
    (local(2026, 10, 11), "police", "medical", "referral", True),  # medical category
    (local(2026, 10, 11), "police", "general", "referral", False),  # neither health nor medical
    (local(2026, 10, 11), "health", "medical", "counselling", False),  # not a referral or care
])
def test_health_referral_window_and_kinds(world, when, agency, category, action_type, referred):
    case = make_case(world, created_at=local(2026, 10, 10))
    make_incident(world, case, reported_on=datetime.date(2026, 10, 10), occurred_on=datetime.date(2026, 10, 10),
                  gbv_type="rape")
    make_action(world, case, type=action_type, at=when, agency=getattr(world, agency), category=category)
    _, drafts = month_drafts(OCTOBER)
    expected = "referred" if referred else "not_referred"
    assert draft_cells(draft_get(drafts, None, "rape_within_72h")) == {("within_72h", expected): 1}


def test_reported_on_decides_the_month_of_an_incident(world):
    case = make_case(world, created_at=local(2026, 9, 1))
    make_incident(world, case, reported_on=datetime.date(2026, 10, 31), gbv_type="rape")
    make_incident(world, case, reported_on=datetime.date(2026, 11, 1), gbv_type="rape")
    make_incident(world, case, reported_on=datetime.date(2026, 9, 30), gbv_type="rape")
    _, drafts = month_drafts(OCTOBER)
    assert sum(map(sum, draft_get(drafts, None, "incidents_by_type_sex_age").cells)) == 1
    assert Incident.objects.count() == 3


def test_month_parsing_and_completeness():
    assert month_parse("2026-10") == OCTOBER
    for bad in ("2026-13", "2026-1", "26-10", "october", "", "2026-10-01", "1999-12"):
        with pytest.raises(PeriodError):
            month_parse(bad)
    month_check_complete(OCTOBER, today=datetime.date(2026, 11, 1))
    with pytest.raises(PeriodError):
        month_check_complete(OCTOBER, today=datetime.date(2026, 10, 31))
    start, end = month_bounds(datetime.date(2026, 12, 1))
    assert (start.isoformat(), end.isoformat()) == ("2026-12-01T00:00:00+07:00", "2027-01-01T00:00:00+07:00")
