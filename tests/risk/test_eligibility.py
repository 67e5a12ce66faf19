"""Escalation to a case meeting (issue 17, part 3): high risk at the latest assessment, repeated
incidents (default 3 within 365 days), and a new incident within 365 days after the case's last
meeting, each at its boundary. Meeting dates come from the hook the meeting app will fill; here a
stub provider stands in for it, in this rule's tests only."""

import datetime

import pytest

from cases.models import Case, Incident
from cases.selectors import case_list_visible_to
from risk.hooks import last_meeting_dates, last_meeting_provider_set
from risk.selectors import EligibilityReason, cases_eligible_for_meeting
from tests.risk.conftest import answers_with, assess

TODAY = datetime.date(2026, 12, 5)


def _incidents(case: Case, *days_ago: int, occurred: bool = True) -> None:
    first = case.incidents.first()
    for days in days_ago:
        day = TODAY - datetime.timedelta(days=days)
        Incident.objects.create(case=case, province=first.province, gbv_type="physical_assault",
                                occurred_on=day if occurred else None, reported_on=day,
                                recorded_by=first.recorded_by, recorded_by_agency=first.recorded_by_agency)


def _eligible(world, *, provider=None) -> dict[int, tuple[str, ...]]:
    rows = cases_eligible_for_meeting(cases=case_list_visible_to(user=world.lead_supervisor), today=TODAY,
                                      last_meeting_on=provider)
    return {row.case.pk: row.reasons for row in rows}


@pytest.fixture
def quiet_case(world, shared_case):
    """The shared case with its opening incident moved two years back: nothing makes it eligible."""
    case = shared_case.case
    case.incidents.update(occurred_on=TODAY - datetime.timedelta(days=800),
                          reported_on=TODAY - datetime.timedelta(days=790))
    return case


def test_nothing_makes_a_quiet_case_eligible(world, quiet_case):
    assert _eligible(world) == {}


def test_high_risk_at_the_latest_assessment(world, quiet_case):
    assess(world, quiet_case, answers=answers_with(13))
    assert _eligible(world) == {}
    assess(world, quiet_case, answers=answers_with(14))
    assert _eligible(world) == {quiet_case.pk: (EligibilityReason.HIGH_RISK,)}
    # The latest counts: a later medium assessment takes the case off.
    assess(world, quiet_case, answers=answers_with(10))
    assert _eligible(world) == {}


def test_judgement_raised_to_high_counts(world, quiet_case):
    assess(world, quiet_case, answers=answers_with(2), raised_level="high", judgement_reason="Mới bị đe dọa")
    assert _eligible(world) == {quiet_case.pk: (EligibilityReason.HIGH_RISK,)}


@pytest.mark.parametrize(("days_ago", "eligible"), [
    ((0, 100, 365), True),   # the third on the window's first day
    ((0, 100, 366), False),  # the third a day before it
    ((0, 100), False),       # two are not repeated enough
])
def test_repeated_incidents_at_the_window_boundary(world, quiet_case, days_ago, eligible):
    _incidents(quiet_case, *days_ago)
    expected = {quiet_case.pk: (EligibilityReason.REPEATED_INCIDENTS,)} if eligible else {}
    assert _eligible(world) == expected


def test_an_incident_of_unknown_date_counts_from_its_report(world, quiet_case):
    _incidents(quiet_case, 1, 2)
    _incidents(quiet_case, 365, occurred=False)
    assert _eligible(world) == {quiet_case.pk: (EligibilityReason.REPEATED_INCIDENTS,)}


def test_the_threshold_is_a_setting(world, quiet_case, settings):
    settings.RISK_REPEATED_INCIDENTS = 2
    _incidents(quiet_case, 0, 10)
    assert _eligible(world) == {quiet_case.pk: (EligibilityReason.REPEATED_INCIDENTS,)}


@pytest.mark.parametrize(("meeting_days_ago", "incident_days_ago", "eligible"), [
    (400, 35, True),    # 365 days after the meeting: still within
    (400, 34, False),   # 366 days after: no longer
    (10, 10, False),    # the same day as the meeting: discussed there
    (10, 9, True),      # the day after
])
def test_a_new_incident_after_the_last_meeting(world, quiet_case, meeting_days_ago, incident_days_ago, eligible):
    _incidents(quiet_case, incident_days_ago)
    met = TODAY - datetime.timedelta(days=meeting_days_ago)
    asked = []

    def stub(case_ids):
        asked.append(sorted(case_ids))
        return {quiet_case.pk: met}

    expected = {quiet_case.pk: (EligibilityReason.INCIDENT_AFTER_MEETING,)} if eligible else {}
    assert _eligible(world, provider=stub) == expected
    assert asked == [[quiet_case.pk]]


def test_reasons_add_up_and_closed_cases_are_left_out(world, quiet_case):
    assess(world, quiet_case, answers=answers_with(yes=["threats_to_kill"]))
    _incidents(quiet_case, 1, 2, 3)
    rows = cases_eligible_for_meeting(cases=case_list_visible_to(user=world.lead_supervisor), today=TODAY,
                                      last_meeting_on=lambda ids: {quiet_case.pk: TODAY - datetime.timedelta(days=5)})
    assert [(r.case.pk, r.reasons, r.level, r.incidents_in_window) for r in rows] == [
        (quiet_case.pk, ("high_risk", "repeated_incidents", "incident_after_meeting"), "high", 3)]
    Case.objects.filter(pk=quiet_case.pk).update(status="closed")
    assert _eligible(world) == {}


def test_only_cases_the_coordinator_sees(world, quiet_case):
    assess(world, quiet_case, answers=answers_with(14))
    assert cases_eligible_for_meeting(cases=case_list_visible_to(user=world.outsider_supervisor), today=TODAY) == []


def test_the_meeting_app_registers_its_provider(db):
    from conferences.selectors import last_meeting_dates as held_meetings
    from risk import hooks

    assert hooks._provider is held_meetings
    assert last_meeting_dates([1, 2]) == {}  # no meeting held
    last_meeting_provider_set(lambda ids: {i: TODAY for i in ids})
    try:
        assert last_meeting_dates([1]) == {1: TODAY}
        last_meeting_provider_set(None)
        assert last_meeting_dates([1]) == {}
    finally:
        last_meeting_provider_set(held_meetings)
