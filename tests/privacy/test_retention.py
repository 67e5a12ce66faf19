"""Retention on a clock moved forward: the notice 30 days before the end, anonymisation at the end,
a legal hold that suspends it, a reopening that cancels it, the report counts that stay."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured

from audit.models import AuditEvent
from cases.models import Case, Survivor
from notifications.models import Notification, NotificationKind
from privacy.models import LegalHold, RetentionNotice
from privacy.retention import CHOSEN, retention_apply, retention_end, retention_schedule, retention_schedule_parse
from privacy.services import legal_hold_place, legal_hold_release
from reports.indicators import month_drafts
from tests.support.pages import form_tokens, sent_twice

from .conftest import SURVIVOR, at, close_case, open_case

pytestmark = pytest.mark.django_db

OPENED = at(2026, 3, 10, 9, 0)
CLOSED = at(2026, 4, 15, 10, 0)
ADULT_END = at(2031, 4, 15, 10, 0)  # 5 years after closure (privacy/data/retention.yaml)


def _closed_adult_case(world):
    with time_machine.travel(OPENED, tick=False):
        case = open_case(world)
    with time_machine.travel(CLOSED, tick=False):
        close_case(world, case)
    case.refresh_from_db()
    return case


def _run(moment):
    with time_machine.travel(moment, tick=False):
        return retention_apply()


def _counts(period):
    _month, drafts = month_drafts(period)
    return {(scope, draft.key): draft.cells for scope, items in drafts.items() for draft in items}


def test_every_rule_names_its_source_and_none_is_passed_off_as_law():
    rules = retention_schedule()
    assert set(rules) == {"adult", "child", "age_unknown"}
    for rule in rules.values():
        assert rule.source
        # No number in the schedule comes from a law this project could cite: each says so.
        assert rule.source == CHOSEN and not rule.from_law


@pytest.mark.parametrize("entries", [
    [{"kind": "adult", "years_after_closure": 5, "source": CHOSEN}],  # child and age_unknown missing
    [{"kind": "adult", "years_after_closure": 0, "source": CHOSEN}],
    [{"kind": "adult", "years_after_closure": 5}],
    [{"kind": "elderly", "years_after_closure": 5, "source": CHOSEN}],
    {"adult": 5},
])
def test_a_broken_schedule_stops_the_run(entries):
    with pytest.raises(ImproperlyConfigured):
        retention_schedule_parse(entries)


def test_child_kept_until_five_years_after_she_turns_18(world):
    with time_machine.travel(OPENED, tick=False):
        case = open_case(world, survivor={**SURVIVOR, "birth_year": 2014, "guardian_name": "Lê Văn Tư"})
    with time_machine.travel(CLOSED, tick=False):
        close_case(world, case)
    case = Case.objects.select_related("survivor").get(pk=case.pk)
    # Turns 18 in 2032 at the latest: kept to 1 January 2033 + 5 years, well after closure + 5.
    assert retention_end(case, schedule=retention_schedule()) == at(2038, 1, 1)
    adult = _closed_adult_case(world)
    adult = Case.objects.select_related("survivor").get(pk=adult.pk)
    assert retention_end(adult, schedule=retention_schedule()) == ADULT_END


def test_notice_30_days_before_then_anonymised_at_the_end(world):
    case = _closed_adult_case(world)
    before = _counts(datetime.date(2026, 3, 1)), _counts(datetime.date(2026, 4, 1))

    run = _run(ADULT_END - datetime.timedelta(days=31))
    assert run.notified == 0 and not RetentionNotice.objects.exists()

    run = _run(ADULT_END - datetime.timedelta(days=30))
    assert run.notified == 1
    notice = RetentionNotice.objects.get(case=case)
    assert notice.anonymise_after == ADULT_END
    told = Notification.objects.filter(kind=NotificationKind.RETENTION_NOTICE, case_number=case.number)
    assert set(told.values_list("recipient__username", flat=True)) == {"lead_supervisor"}
    assert AuditEvent.objects.filter(case_id=case.pk, target=f"retention_notice:{notice.pk}").exists()
    assert _run(ADULT_END - datetime.timedelta(days=29)).notified == 0  # one notice, not one a day
    assert told.count() == 1

    assert _run(ADULT_END - datetime.timedelta(minutes=1)).anonymised == 0
    assert Case.objects.get(pk=case.pk).anonymised_at is None

    assert _run(ADULT_END + datetime.timedelta(hours=1)).anonymised == 1
    case.refresh_from_db()
    assert case.anonymised_at is not None
    survivor = Survivor.objects.get(pk=case.survivor_id)
    assert SURVIVOR["full_name"] not in (survivor.full_name, survivor.phone, survivor.address)
    assert not any(case.actions.values_list("text", flat=True))
    assert RetentionNotice.objects.get(pk=notice.pk).status == RetentionNotice.Status.DONE
    assert AuditEvent.objects.filter(case_id=case.pk, details__retention="anonymised").exists()
    # The structured facts stay: the months' report counts are what they were.
    assert (_counts(datetime.date(2026, 3, 1)), _counts(datetime.date(2026, 4, 1))) == before
    assert _run(ADULT_END + datetime.timedelta(days=2)).anonymised == 0  # idempotent


def test_a_late_first_run_still_gives_30_days_notice(world):
    case = _closed_adult_case(world)
    late = ADULT_END + datetime.timedelta(days=100)
    assert _run(late).notified == 1
    assert RetentionNotice.objects.get(case=case).anonymise_after == late + datetime.timedelta(days=30)
    assert _run(late + datetime.timedelta(days=29)).anonymised == 0
    assert _run(late + datetime.timedelta(days=30, minutes=1)).anonymised == 1


def test_legal_hold_suspends_retention_until_released(world):
    case = _closed_adult_case(world)
    _run(ADULT_END - datetime.timedelta(days=10))
    assert RetentionNotice.objects.filter(case=case, status="pending").exists()
    with time_machine.travel(ADULT_END - datetime.timedelta(days=5), tick=False):
        hold = legal_hold_place(user=world.lead_supervisor, case=case, data={"reason": "Vụ án hình sự đang điều tra"})
    notice = RetentionNotice.objects.get(case=case)
    assert notice.status == RetentionNotice.Status.CANCELLED
    assert _cancelled_audited(notice, "legal hold") == 1
    run = _run(ADULT_END + datetime.timedelta(days=400))
    assert (run.held, run.anonymised, run.notified) == (1, 0, 0)
    assert Case.objects.get(pk=case.pk).anonymised_at is None

    released = ADULT_END + datetime.timedelta(days=401)
    with time_machine.travel(released, tick=False):
        legal_hold_release(user=world.lead_supervisor, hold_id=hold.pk, data={"reason": "Đã xét xử xong"})
    assert _run(released + datetime.timedelta(hours=1)).notified == 1  # a fresh, full notice
    assert _run(released + datetime.timedelta(days=29)).anonymised == 0
    assert _run(released + datetime.timedelta(days=31)).anonymised == 1
    # The hold's reasons went with the rest of the case's text.
    assert LegalHold.objects.values_list("reason", "release_reason").get(pk=hold.pk) == ("", "")


def test_reopening_cancels_the_notice(world, lead_access):
    from cases.services import case_change_status

    case = _closed_adult_case(world)
    _run(ADULT_END - datetime.timedelta(days=10))
    with time_machine.travel(ADULT_END - datetime.timedelta(days=9), tick=False):
        case_change_status(access=lead_access(case), actor=world.lead_responder, status="reopened")
    # At once, in the reopening's transaction: the next run finds nothing left to cancel.
    assert RetentionNotice.objects.get(case=case).status == RetentionNotice.Status.CANCELLED
    run = _run(ADULT_END + datetime.timedelta(days=1))
    assert (run.cancelled, run.anonymised) == (0, 0)
    assert Case.objects.get(pk=case.pk).anonymised_at is None


def _cancelled_audited(notice, reason):
    return AuditEvent.objects.filter(target=f"retention_notice:{notice.pk}", details__retention="cancelled",
                                     details__cancelled_reason=reason).count()


def test_a_case_reopened_and_closed_again_between_two_runs_counts_from_its_new_closing(world, lead_access):
    """README: "Reopening a case cancels its notice too; closing it again starts the count again." The
    reopening cancels the notice at once, in its own transaction: closing the case again before the next
    daily run does not leave the old notice standing, to anonymise her on its day, years early."""
    from cases.services import case_change_status

    case = _closed_adult_case(world)
    _run(ADULT_END - datetime.timedelta(days=10))
    notice = RetentionNotice.objects.get(case=case, status=RetentionNotice.Status.PENDING)
    # Nine days before the end, a new incident: her case is reopened, worked on and closed again that day.
    with time_machine.travel(ADULT_END - datetime.timedelta(days=9, hours=2), tick=False):
        case_change_status(access=lead_access(case), actor=world.lead_responder, status="reopened")
    notice.refresh_from_db()
    assert (notice.status, notice.cancelled_reason) == (RetentionNotice.Status.CANCELLED, "reopened")
    event = AuditEvent.objects.get(target=f"retention_notice:{notice.pk}", details__retention="cancelled")
    assert (event.actor_id, event.case_id, event.details["cancelled_reason"]) == (
        world.lead_responder.pk, case.pk, "reopened")
    with time_machine.travel(ADULT_END - datetime.timedelta(days=9), tick=False):
        close_case(world, case)
    reclosed = ADULT_END - datetime.timedelta(days=9)

    run = _run(ADULT_END + datetime.timedelta(days=21))  # past the old notice's day (notice + 30 days)
    assert (run.anonymised, run.notified, run.cancelled) == (0, 0, 0)
    assert Case.objects.get(pk=case.pk).anonymised_at is None
    # The count starts again: a new notice 30 days before five years after the new closing.
    new_end = reclosed.replace(year=reclosed.year + 5)
    assert _run(new_end - datetime.timedelta(days=30)).notified == 1
    assert RetentionNotice.objects.get(case=case, status=RetentionNotice.Status.PENDING).anonymise_after == new_end
    assert _cancelled_audited(notice, "reopened") == 1


def test_the_run_never_anonymises_on_a_notice_given_before_the_case_was_closed_again(world):
    """The backstop, for a notice that outlived a reopening (a row written before reopenings cancelled
    notices, a reopening made outside case_change_status): the run cancels a notice older than the case's
    current closing, audits it, and counts from the new closing."""
    case = _closed_adult_case(world)
    _run(ADULT_END - datetime.timedelta(days=10))
    notice = RetentionNotice.objects.get(case=case, status=RetentionNotice.Status.PENDING)
    reclosed = ADULT_END - datetime.timedelta(days=9)
    # Closed again after the notice, the notice left pending (as the old code left it).
    Case.objects.filter(pk=case.pk).update(closed_at=reclosed)

    run = _run(ADULT_END + datetime.timedelta(days=21))
    assert (run.anonymised, run.cancelled, run.notified) == (0, 1, 0)
    assert Case.objects.get(pk=case.pk).anonymised_at is None
    notice.refresh_from_db()
    assert (notice.status, notice.cancelled_reason) == (RetentionNotice.Status.CANCELLED, "closed again")
    event = AuditEvent.objects.get(target=f"retention_notice:{notice.pk}", details__retention="cancelled")
    assert (event.actor_id, event.case_id, event.agency_id) == (None, case.pk, case.lead_agency_id)
    new_end = reclosed.replace(year=reclosed.year + 5)
    assert _run(new_end - datetime.timedelta(days=31)).notified == 0
    assert _run(new_end - datetime.timedelta(days=30)).notified == 1


def test_open_cases_are_never_touched(world):
    with time_machine.travel(OPENED, tick=False):
        case = open_case(world)
    assert _run(OPENED + datetime.timedelta(days=365 * 30)).notified == 0
    assert Case.objects.get(pk=case.pk).anonymised_at is None


def test_a_hold_sent_twice_is_placed_once(world, shared_case, web):
    client = web(world.lead_supervisor)
    url = f"/privacy/cases/{shared_case.case.pk}/holds/"
    token = form_tokens(client.get(url).content.decode())[""]
    sent_twice(client, LegalHold, url, {"reason": "Vụ án hình sự đang điều tra", "sending_token": token}, written=1)
