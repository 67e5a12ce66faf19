"""Corrections that reveal nobody (issue 9, part 3).

* Withdrawal of statistics consent after publication takes effect from the next month's report:
  a correction of a published month still counts her, so v1 and v2 cannot differ by her.
* A correction is published only when no count it shows as a number changed by 1 … t−1 from an
  earlier version; otherwise it is held, retried after the next regular month, and the person
  who asked is told.
"""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cases.events import case_updated
from cases.models import Case, Incident
from notifications.models import Notification, NotificationKind
from reports.indicators import consent_as_of, month_drafts
from reports.models import HeldCorrection, MonthlyReport
from reports.services import CorrectionHeld, held_corrections_retry, monthly_report_correct, monthly_reports_build

from .conftest import OCTOBER, TODAY, local, make_action, make_case, make_incident

d = datetime.date


def _withdraw_statistics_consent(case: Case) -> None:
    """As cases.services.case_update records it: the field and an UPDATED event with the change."""
    Case.objects.filter(pk=case.pk).update(statistics_consent=False)
    case_updated(case=case, actor=None, agency=None, at=timezone.now(), changes={"statistics_consent": (True, False)})


def _total(drafts, scope, key) -> int:
    table = next(t for t in drafts[scope] if t.key == key)
    return sum(map(sum, table.cells))


def test_a_survivor_who_withdraws_statistics_consent_after_publication_changes_no_published_report(october, world):
    """The issue's scenario: one survivor (the girl of case C1, Hà Nội) withdraws statistics
    consent after October is published, and a correction of Hà Nội's October is asked for. Her
    withdrawal takes effect from November: October's reports stay as they are (v2 would be
    v1 minus her, which is her whole profile), and November no longer counts her."""
    built = monthly_reports_build(period=OCTOBER, today=TODAY).created
    published = {r.province.code if r.province_id else None: r for r in built}
    girl = october.cases[1]
    _withdraw_statistics_consent(girl)
    for scope in ("01", None):
        assert monthly_report_correct(
            period=OCTOBER, scope=scope, reason="Consent withdrawn", today=TODAY, requested_by=world.lead_supervisor,
        ) is None
    assert MonthlyReport.objects.filter(period=OCTOBER).count() == len(published)
    assert published["01"].data == MonthlyReport.objects.get(pk=published["01"].pk).data
    # ... and from November she is left out: an action on her case in November is not counted.
    _, before = month_drafts(d(2026, 11, 1))
    make_action(world, girl, type="referral", at=local(2026, 11, 3), agency=world.police)
    _, after = month_drafts(d(2026, 11, 1))
    assert _total(after, None, "actions_by_sector") == _total(before, None, "actions_by_sector")


def test_a_correction_while_she_is_counted_as_of_publication_keeps_her(october, world):
    """A real data error corrected after her withdrawal: the new version still counts her."""
    monthly_reports_build(period=OCTOBER, today=TODAY)
    girl = october.cases[1]
    _withdraw_statistics_consent(girl)

    first = MonthlyReport.objects.filter(period=OCTOBER).order_by("published_at").first().published_at
    consent = consent_as_of(first)
    assert girl.pk in consent.counted
    _, drafts = month_drafts(OCTOBER, consent=consent)
    _, today = month_drafts(OCTOBER)
    assert _total(drafts, "01", "child_cases") == _total(today, "01", "child_cases") + 1


def test_a_correction_that_would_describe_the_people_it_changes_is_held_and_the_requester_told(busy_october, world):
    monthly_reports_build(period=OCTOBER, scopes=[None], today=TODAY)
    case = make_case(world, created_at=local(2026, 10, 20))
    make_incident(world, case, reported_on=d(2026, 10, 20), gbv_type="rape")
    with pytest.raises(CorrectionHeld) as raised:
        monthly_report_correct(period=OCTOBER, scope=None, reason="One incident entered late", today=TODAY,
                               requested_by=world.lead_supervisor)
    held = raised.value.held
    assert HeldCorrection.objects.get() == held
    assert held.requested_by == world.lead_supervisor and held.resolved_at is None
    assert any("→" in p for p in held.problems)
    assert MonthlyReport.objects.filter(period=OCTOBER, version=2).count() == 0
    notice = Notification.objects.get(recipient=world.lead_supervisor, kind=NotificationKind.REPORT_CORRECTION_HELD)
    assert notice.params == {"period": "2026-10"}
    # Tried again after the next regular month: still held while the change is that small.
    assert held_corrections_retry(today=TODAY) == []
    held.refresh_from_db()
    assert held.resolved_at is None
    # The command says so and exits non-zero.
    with pytest.raises(CommandError, match="→"):
        call_command("build_monthly_report", month="2026-10", scope="national", correct="again")


def test_a_held_correction_whose_data_goes_back_is_resolved_without_a_new_version(busy_october, world):
    monthly_reports_build(period=OCTOBER, scopes=[None], today=TODAY)
    case = make_case(world, created_at=local(2026, 10, 20))
    make_incident(world, case, reported_on=d(2026, 10, 20), gbv_type="rape")
    with pytest.raises(CorrectionHeld):
        monthly_report_correct(period=OCTOBER, scope=None, reason="late entry", today=TODAY)
    Incident.objects.filter(case=case).delete()
    Case.objects.filter(pk=case.pk).update(statistics_consent=False)
    assert held_corrections_retry(today=TODAY) == []
    assert HeldCorrection.objects.get().resolved_at is not None
    assert MonthlyReport.objects.filter(period=OCTOBER, version=2).count() == 0
