"""The review queue's backlog tables on PostgreSQL (supervision.QueueHandoff, AgencyReviewQueue, QueueRiskLowered,
kept by the triggers of migration supervision 0008) give exactly what the live queries give: every agency's
counts and first rows, and the tables themselves row for row, on a world changed by the services (send, view,
accept, decline, withdraw, complete, review, assess, close, anonymise), by direct updates, inserts and deletes
(reviews, handoffs, assessments, cases), and by time passing (a deadline passes while nothing is written). A
dropped trigger makes the comparison fail (test_a_dropped_trigger_is_seen). Two transactions reviewing and
answering, or assessing, one handoff or case at once wait for each other and lose nothing.

SQLite has no triggers: its queue is the live query (tests/supervision/test_queue_counts.py)."""

import datetime
import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from agencies.models import Agency
from cases.erasure import anonymise_case
from cases.models import Case, CaseStatus
from cases.selectors import case_get_for_user
from cases.services import case_change_status
from handoffs.models import Handoff, HandoffStatus
from handoffs.services import handoff_accept, handoff_decline, handoff_view
from risk.models import RiskAssessment
from supervision.models import AgencyReviewQueue, HandoffReview, QueueHandoff, QueueRiskLowered
from supervision.queue import review_queue, review_queue_counts
from supervision.services import handoff_review_create
from tests.cases.services_helpers import consent_data, open_case
from tests.conferences.rows import assess
from tests.risk.conftest import assess as assess_through_service
from tests.supervision.conftest import send, set_times
from tests.supervision.test_queue_counts import before, review, risk_lowered_before
from tests.supervision.test_trigger_races import _copy_sql
from tests.support.sql import other_waits_or_ends

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="the backlog tables are kept by PostgreSQL's triggers; SQLite reads live")

DAY = datetime.timedelta(days=1)


def live_backlog() -> set[tuple[int, int, bool, datetime.datetime, datetime.datetime | None]]:
    """QueueHandoff's rows as they should be: each handoff for each of its agencies that has not reviewed it."""
    rows = set()
    reviewed = set(HandoffReview.objects.values_list("handoff_id", "agency_id"))
    columns = ("pk", "from_agency_id", "to_agency_id", "status", "emergency_override", "sent_at", "due_at")
    for pk, sender, receiver, status, override, sent_at, due_at in Handoff.objects.values_list(*columns):
        waiting = due_at if status == HandoffStatus.SENT and not override else None
        for agency_id in (sender, receiver):
            if (pk, agency_id) not in reviewed:
                rows.add((pk, agency_id, override, sent_at, waiting))
    return rows


def assert_kept(now: datetime.datetime) -> int:
    """The tables are what the live definitions give, and every agency's counts and first rows are the live
    queries'; returns how many queue items were seen."""
    assert set(QueueHandoff.objects.values_list("handoff_id", "agency_id", "emergency_override", "sent_at",
                                                "waiting_until")) == live_backlog()
    per_agency: dict[int, int] = {}
    for agency_id in QueueHandoff.objects.values_list("agency_id", flat=True):
        per_agency[agency_id] = per_agency.get(agency_id, 0) + 1
    assert {a: n for a, n in AgencyReviewQueue.objects.values_list("agency_id", "handoffs") if n} == per_agency
    seen = 0
    for agency in Agency.objects.order_by("pk"):
        expected = before(agency, now)
        assert review_queue_counts(agency=agency, now=now) == expected, agency
        queue = review_queue(agency=agency, now=now)
        live = before_rows(agency, now)
        assert [h.pk for h in queue.handoffs] == live["handoffs"], agency
        assert [c.pk for c in queue.risk_lowered] == live["risk_lowered"], agency
        assert set(QueueRiskLowered.objects.filter(agency=agency).values_list("case_id", flat=True)) == {
            row.pk for row in risk_lowered_before(agency=agency)}, agency
        seen += sum(expected.values())
    return seen


def before_rows(agency: Agency, now: datetime.datetime) -> dict[str, list[int]]:
    from supervision.queue import queue_handoffs  # the live query on either database

    return {"handoffs": list(queue_handoffs(agency=agency, now=now).values_list("pk", flat=True)[:50]),
            "risk_lowered": [row.pk for row in risk_lowered_before(agency=agency)[:50]]}


@pytest.mark.django_db
def test_the_backlog_tables_follow_a_changing_world(world, register):
    r, now = register, register.now
    seen = [assert_kept(now)]

    # Reviews through the service, by either side; a second review of the same handoff; a direct insert.
    handoff_review_create(user=world.lead_supervisor, handoff_id=r.h1.pk, verdict="fine")
    handoff_review_create(user=world.receiving_supervisor, handoff_id=r.h2.pk, verdict="fine")
    handoff_review_create(user=world.lead_supervisor, handoff_id=r.h1.pk, verdict="fine")
    review(r.h3, r.social, r.social_supervisor)
    seen.append(assert_kept(now))

    # A handoff sent through the service waits within its deadline, then the deadline passes with nothing
    # written; it is viewed (no change), declined, and reviewed.
    case = open_case(world, consent=consent_data(world, granted_categories=["medical"]))
    waiting = set_times(send(world, case, urgency="standard"), sent_at=now - DAY, due_at=now + DAY)
    seen.append(assert_kept(now))
    seen.append(assert_kept(now + 2 * DAY))
    handoff_view(user=world.receiving_responder, handoff_id=waiting.pk)
    assert_kept(now)
    second = send(world, open_case(world, consent=consent_data(world, granted_categories=["medical"])))
    handoff_accept(user=world.receiving_responder, handoff_id=second.pk)
    handoff_decline(user=world.receiving_responder, handoff_id=waiting.pk, reason="Không đủ giường bệnh.")
    seen.append(assert_kept(now))

    # Direct updates: an override set and taken off, the deadline moved, the status put back, the receiving
    # agency changed, several handoffs at once.
    Handoff.objects.filter(pk=waiting.pk).update(emergency_override=True, override_reason="Nguy hiểm.")
    assert_kept(now)
    Handoff.objects.filter(pk=waiting.pk).update(emergency_override=False, status=HandoffStatus.SENT,
                                                 due_at=now + DAY / 2)
    seen.append(assert_kept(now))
    assert_kept(now + DAY)
    Handoff.objects.filter(pk=second.pk).update(to_agency=r.social)
    Handoff.objects.filter(pk__in=[r.h4.pk, r.h5.pk]).update(sent_at=now - 3 * DAY, due_at=now + 3 * DAY,
                                                             status=HandoffStatus.SENT)
    seen.append(assert_kept(now))

    # Reviews changed and deleted directly; a handoff deleted (its reviews first), a case deleted with its
    # handoffs.
    moved = review(r.h4, world.police, world.lead_supervisor)
    HandoffReview.objects.filter(pk=moved.pk).update(agency=world.health)
    assert_kept(now)
    HandoffReview.objects.filter(handoff=r.h1, agency=world.police).delete()
    seen.append(assert_kept(now))
    HandoffReview.objects.filter(handoff=r.h2).delete()
    Handoff.objects.filter(pk=r.h2.pk).delete()
    Case.objects.filter(pk=second.case_id).delete()
    seen.append(assert_kept(now))

    # Risk: lowered through the service after a direct high one, raised again, a draft completed by an update,
    # an assessment's level changed and one deleted, a case closed through the service, anonymised (nothing
    # changes), its lead agency changed, a case deleted.
    c = {k: open_case(world) for k in "ABCD"}
    assess(world, c["A"], level="severe", at=now - 40 * DAY)
    assess_through_service(world, c["A"])
    seen.append(assert_kept(now))
    assess(world, c["B"], level="high", at=now - 40 * DAY)
    low = assess(world, c["B"], level="low", at=now - 10 * DAY)
    draft = assess(world, c["C"], level="high", at=now - 5 * DAY)
    RiskAssessment.objects.filter(pk=draft.pk).update(status="draft", completed_at=None)
    assess(world, c["C"], level="severe", at=now - 40 * DAY)
    seen.append(assert_kept(now))
    RiskAssessment.objects.filter(pk=draft.pk).update(status="completed", completed_at=now - DAY)
    RiskAssessment.objects.filter(pk=low.pk).update(level="severe", level_rank=low.level_rank + 3)
    seen.append(assert_kept(now))
    RiskAssessment.objects.filter(pk=low.pk).delete()
    assess(world, c["D"], level="severe", at=now - 40 * DAY)
    assess(world, c["D"], level="medium", at=now - 3 * DAY)
    seen.append(assert_kept(now))
    anonymise_case(c["D"], actor=None, reason="retention")
    assert_kept(now)
    access = case_get_for_user(user=world.lead_supervisor, case_id=c["A"].pk)
    case_change_status(access=access, actor=world.lead_supervisor, status=CaseStatus.CLOSED, close_reason="Xong.")
    Case.objects.filter(pk=c["D"].pk).update(lead_agency=world.health)
    seen.append(assert_kept(now))
    Case.objects.filter(pk=c["D"].pk).delete()
    seen.append(assert_kept(now))
    # The world did change, and the queue showed some of it at each step.
    assert len(set(seen)) > 4 and min(seen) > 0


# Each trigger, and a change only it sees.
def _drop_review_insert(world, r, now):
    handoff_review_create(user=world.lead_supervisor, handoff_id=r.h1.pk, verdict="fine")


def _drop_review_delete(world, r, now):
    handoff_review_create(user=world.lead_supervisor, handoff_id=r.h1.pk, verdict="fine")
    connection.cursor().execute("DROP TRIGGER supervision_queue_review_delete ON supervision_handoffreview")
    HandoffReview.objects.filter(handoff=r.h1).delete()


def _drop_handoff_insert(world, r, now):
    send(world, open_case(world, consent=consent_data(world, granted_categories=["medical"])))


def _drop_handoff_update(world, r, now):
    Handoff.objects.filter(pk=r.h1.pk).update(emergency_override=True, override_reason="Nguy hiểm.")


def _drop_handoff_delete(world, r, now):
    Handoff.objects.filter(pk=r.h5.pk).delete()


def _drop_assessment_insert(world, r, now):
    case = open_case(world)
    assess(world, case, level="severe", at=now - 40 * DAY)
    assess(world, case, level="low", at=now - DAY)


def _drop_case_update(world, r, now):
    case = open_case(world)
    assess(world, case, level="severe", at=now - 40 * DAY)
    assess(world, case, level="low", at=now - DAY)
    connection.cursor().execute("DROP TRIGGER supervision_queue_case_update ON cases_case")
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED, closed_at=now)


DROPPED = {"review_insert": _drop_review_insert, "review_delete": _drop_review_delete,
           "handoff_insert": _drop_handoff_insert, "handoff_update": _drop_handoff_update,
           "handoff_delete": _drop_handoff_delete, "assessment_insert": _drop_assessment_insert,
           "case_update": _drop_case_update}
TABLES = {"review": "supervision_handoffreview", "handoff": "cases_handoff", "assessment": "risk_riskassessment",
          "case": "cases_case"}


@pytest.mark.django_db
@pytest.mark.parametrize("trigger", DROPPED)
def test_a_dropped_trigger_is_seen(world, register, trigger):
    """The comparison above can fail: without one trigger (dropped in the test's transaction, rolled back
    after it), a change only that trigger follows leaves the tables and counts wrong."""
    assert_kept(register.now)
    if trigger not in ("review_delete", "case_update"):  # those drop theirs after setting the world up
        connection.cursor().execute(f"DROP TRIGGER supervision_queue_{trigger} ON {TABLES[trigger.split('_')[0]]}")
    DROPPED[trigger](world, register, register.now)
    with pytest.raises(AssertionError):
        assert_kept(register.now)


# --- Two transactions at once ----------------------------------------------------------------------------


def _at_once(first: list[tuple[str, list]], second: list[tuple[str, list]]) -> None:
    """`first` in a transaction left open on this connection; `second` on another thread's connection, started
    while the first is open (it waits where it must); the first committed once the second waits for it (or
    has ended), then the second. Either side's error (a deadlock) fails the test."""
    errors = []
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params in first:
            cursor.execute(sql, params)

        def run():
            try:
                with transaction.atomic(), connections["default"].cursor() as other:
                    for sql, params in second:
                        other.execute(sql, params)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        other_waits_or_ends(thread)
    thread.join(30)
    assert not thread.is_alive()
    assert errors == []


def _review_sql(handoff: Handoff, agency: Agency, reviewer) -> tuple[str, list]:
    return ("INSERT INTO supervision_handoffreview (handoff_id, agency_id, reviewer_id, verdict, comment, at) "
            "VALUES (%s, %s, %s, 'fine', '', now())", [handoff.pk, agency.pk, reviewer.pk])


def _accept_sql(handoff: Handoff) -> list[tuple[str, list]]:
    """An acceptance as the handoff service writes it: the case row locked, then the handoff's status."""
    return [("SELECT 1 FROM cases_case WHERE id = %s FOR UPDATE", [handoff.case_id]),
            ("UPDATE cases_handoff SET status = %s, responded_at = now() WHERE id = %s",
             [HandoffStatus.ACCEPTED, handoff.pk])]


@pytest.fixture
def overdue(transactional_db, world):
    """A handoff of the police's case to health, sent and not answered, past its deadline: in both queues."""
    case = open_case(world, consent=consent_data(world, granted_categories=["medical"]))
    return set_times(send(world, case), sent_at=timezone.now() - 2 * DAY, due_at=timezone.now() - DAY)


@pytest.mark.parametrize("reviewed_first", [True, False], ids=["review-then-accept", "accept-then-review"])
def test_a_review_and_an_acceptance_at_once(world, overdue, reviewed_first):
    review = [_review_sql(overdue, world.health, world.receiving_supervisor)]
    accept = _accept_sql(overdue)
    _at_once(review, accept) if reviewed_first else _at_once(accept, review)
    assert_kept(timezone.now())
    assert set(QueueHandoff.objects.filter(handoff=overdue).values_list("agency_id", flat=True)) == {world.police.pk}


def test_two_reviews_of_one_handoff_and_the_other_sides_at_once(world, overdue):
    health = [_review_sql(overdue, world.health, world.receiving_supervisor)]
    _at_once(health, health)
    assert_kept(timezone.now())
    _at_once([_review_sql(overdue, world.police, world.lead_supervisor)], health)
    assert_kept(timezone.now())
    assert not QueueHandoff.objects.filter(handoff=overdue).exists()
    assert dict(AgencyReviewQueue.objects.values_list("agency_id", "handoffs")) == {
        world.police.pk: 0, world.health.pk: 0}


def test_two_handoffs_between_two_agencies_sent_both_ways_at_once(world, overdue):
    """Each new handoff moves both agencies' counts, in order of agency: no deadlock, both counted."""
    other = open_case(world, actor=world.receiving_responder, agency=world.health,
                      consent=consent_data(world, receiving_agency=world.police, granted_categories=["police_legal"]))
    back = send(world, other, actor=world.receiving_responder, to_agency=world.police, categories=["police_legal"])
    sql, params = _copy_sql(Handoff, status=HandoffStatus.DECLINED, decline_reason="-", responded_at=timezone.now())
    _at_once([(sql, [*params, overdue.pk])], [(sql, [*params, back.pk])])
    assert_kept(timezone.now())
    assert {a: n for a, n in AgencyReviewQueue.objects.values_list("agency_id", "handoffs") if n} == {
        world.police.pk: 4, world.health.pk: 4}


@pytest.mark.parametrize("lower_first", [True, False], ids=["lower-then-raise", "raise-then-lower"])
def test_two_assessments_of_one_case_at_once(world, overdue, lower_first):
    case = Case.objects.get(pk=overdue.case_id)
    now = timezone.now()
    peak = assess(world, case, level="high", at=now - 40 * DAY)
    lower, raise_ = (_copy_sql(RiskAssessment, level=level, level_rank=rank, computed_level=level, computed_rank=rank,
                               band=level, completed_at=at)
                     for level, rank, at in (("low", peak.level_rank - 2, now - 2 * DAY),
                                             ("severe", peak.level_rank + 1, now - DAY)))
    lower, raise_ = [(lower[0], [*lower[1], peak.pk])], [(raise_[0], [*raise_[1], peak.pk])]
    _at_once(lower, raise_) if lower_first else _at_once(raise_, lower)
    assert_kept(now)
    assert not QueueRiskLowered.objects.filter(case=case).exists()
