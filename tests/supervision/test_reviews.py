"""Reviews and the review queue: verdict rules, follow-up deadlines, audit, and who may review what."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from cases.models import Consent
from config.exceptions import NotFound
from notifications.models import Deadline
from supervision.models import BreakGlassReview, ConsentOverrideReview, HandoffReview
from supervision.queue import _sections, review_queue, review_queue_counts
from supervision.serializers import ReviewInputSerializer
from supervision.services import (
    break_glass_review_create,
    consent_override_review_create,
    handoff_review_create,
    review_create,
)
from tests.cases.services_helpers import consent_data, open_case, through_edge
from tests.supervision.conftest import REGISTER_ONCE, send
from tests.support.pages import form_tokens, sent_twice

pytestmark = REGISTER_ONCE

TOMORROW = datetime.timedelta(days=1)


def test_queue_lists_what_is_not_signed_off(world, register, break_glass_use, consent_override):
    r = register
    queue = review_queue(agency=world.police, now=r.now)
    # H3 (emergency override, overdue) first; then the finished ones, newest first.
    assert [h.pk for h in queue.handoffs] == [r.h3.pk, r.h4.pk, r.h2.pk, r.h1.pk, r.h5.pk]
    assert [c.pk for c in queue.consent_overrides] == [consent_override.pk]
    assert [u.pk for u in queue.break_glass] == [break_glass_use.pk]
    assert queue.total == 7
    # The school's supervisors review their own responder's use; health has no part in it.
    assert review_queue_counts(agency=world.school) == {"handoff": 0, "consent_override": 0, "break_glass": 1,
                                                        "risk_lowered": 0, "meeting_without_minutes": 0}
    assert review_queue_counts(agency=world.health)["break_glass"] == 0
    # The counts, one statement compiled once on PostgreSQL, are each section's queryset's.
    for agency in (world.police, world.health, world.school):
        assert review_queue_counts(agency=agency, now=r.now) == {
            key: qs.count() for key, qs in _sections(agency, r.now).items()}


def test_a_handoff_still_waiting_within_its_deadline_is_not_yet_for_review(world, register):
    waiting = send(world, open_case(world, consent=consent_data(world)))
    assert waiting.pk not in {h.pk for h in review_queue(agency=world.police).handoffs}


def test_fine_review_takes_the_handoff_out_of_the_agency_queue_only(world, register):
    review = handoff_review_create(user=world.lead_supervisor, handoff_id=register.h1.pk, verdict="fine")
    assert (review.agency, review.reviewer, review.follow_up) == (world.police, world.lead_supervisor, None)
    assert register.h1.pk not in {h.pk for h in review_queue(agency=world.police).handoffs}
    # The health agency, on the other side, has not reviewed it.
    assert register.h1.pk in {h.pk for h in review_queue(agency=world.health).handoffs}
    event = AuditEvent.objects.get(target=f"handoff_review:{review.pk}")
    assert (event.action, event.actor, event.case_id, event.agency_id, event.details["verdict"]) == (
        "create", world.lead_supervisor, register.h1.case_id, world.police.pk, "fine")


def test_concern_needs_a_comment(world, register):
    with pytest.raises(ValidationError) as info:
        handoff_review_create(user=world.lead_supervisor, handoff_id=register.h2.pk,
                              **through_edge(ReviewInputSerializer, {"verdict": "concern", "comment": " "}))
    assert "comment" in info.value.message_dict
    review = handoff_review_create(user=world.lead_supervisor, handoff_id=register.h2.pk, verdict="concern",
                                   comment="Từ chối sau hạn 12 giờ, không gọi lại.")
    # The event points at the review, whose comment is sealed with the case key.
    assert AuditEvent.objects.get(target=f"handoff_review:{review.pk}").reason == ""
    assert HandoffReview.objects.get(pk=review.pk).comment == "Từ chối sau hạn 12 giờ, không gọi lại."


def test_follow_up_needs_a_future_due_time_and_creates_the_deadline(world, register):
    for bad in (None, "", "tomorrow", timezone.now() - TOMORROW, timezone.now() + datetime.timedelta(days=400)):
        with pytest.raises(ValidationError) as info:
            handoff_review_create(user=world.lead_supervisor, handoff_id=register.h2.pk, **through_edge(
                ReviewInputSerializer, {"verdict": "follow_up_needed", "follow_up_due": bad}))
        assert "follow_up_due" in info.value.message_dict
    due = timezone.now() + 2 * TOMORROW
    review = handoff_review_create(user=world.lead_supervisor, handoff_id=register.h2.pk, **through_edge(
        ReviewInputSerializer, {"verdict": "follow_up_needed", "follow_up_due": due.isoformat()}))
    deadline = review.follow_up
    assert (deadline.kind, deadline.owner_agency, deadline.due_at, deadline.case_number, deadline.link) == (
        "follow_up", world.police, review.follow_up_due, register.h2.case.number, f"/handoffs/{register.h2.pk}/")
    assert abs(review.follow_up_due - due) < datetime.timedelta(seconds=1)
    # A later review supersedes the follow-up it asked for.
    handoff_review_create(user=world.lead_supervisor, handoff_id=register.h2.pk, verdict="fine")
    deadline.refresh_from_db()
    assert (deadline.stage, deadline.closed_reason) == ("closed", "superseded")
    with pytest.raises(ValidationError):
        handoff_review_create(user=world.lead_supervisor, handoff_id=register.h2.pk,
                              **through_edge(ReviewInputSerializer, {"verdict": "fine", "follow_up_due": due}))


@pytest.mark.parametrize("verdict", ["great", "", None, 3])
def test_unknown_verdicts_are_refused(world, register, verdict):
    with pytest.raises(ValidationError) as info:
        handoff_review_create(user=world.lead_supervisor, handoff_id=register.h1.pk,
                              **through_edge(ReviewInputSerializer, {"verdict": verdict}))
    assert "verdict" in info.value.message_dict
    assert not HandoffReview.objects.exists()


@pytest.mark.parametrize("who, error", [
    ("lead_responder", PermissionDenied), ("lead_admin", PermissionDenied), ("analyst", PermissionDenied),
    ("sysadmin", PermissionDenied), ("outsider_supervisor", NotFound),
])
def test_only_supervisors_of_either_side_review_a_handoff(world, register, who, error):
    with pytest.raises(error):
        handoff_review_create(user=getattr(world, who), handoff_id=register.h1.pk, verdict="fine")
    assert not HandoffReview.objects.exists()


def test_a_supervisor_names_only_their_own_agency(world, register):
    with pytest.raises(PermissionDenied):
        handoff_review_create(user=world.receiving_supervisor, handoff_id=register.h1.pk, verdict="fine",
                              agency_id=world.police.pk)
    review = handoff_review_create(user=world.receiving_supervisor, handoff_id=register.h1.pk, verdict="fine")
    assert review.agency == world.health


def test_consent_override_review_clears_the_flag(world, register, consent_override):
    assert consent_override.needs_review
    with pytest.raises(NotFound):
        consent_override_review_create(user=world.receiving_supervisor, consent_id=consent_override.pk,
                                       verdict="fine")
    review = consent_override_review_create(user=world.lead_supervisor, consent_id=consent_override.pk,
                                            verdict="concern", comment="Cần xác nhận lại với nạn nhân.")
    assert not Consent.objects.get(pk=consent_override.pk).needs_review
    assert ConsentOverrideReview.objects.get() == review
    assert not review_queue(agency=world.police).consent_overrides
    assert AuditEvent.objects.filter(target=f"consent_override_review:{review.pk}", action="create").count() == 1


def test_break_glass_review_by_either_agency(world, register, break_glass_use):
    police = break_glass_review_create(user=world.lead_supervisor, use_id=break_glass_use.pk, verdict="fine")
    school = break_glass_review_create(user=world.outsider_supervisor, use_id=break_glass_use.pk,
                                       verdict="follow_up_needed",
                                       follow_up_due=timezone.now() + TOMORROW, comment="Nói chuyện với cô giáo.")
    assert (police.agency, school.agency) == (world.police, world.school)
    assert school.follow_up.owner_agency == world.school
    assert not review_queue(agency=world.police).break_glass and not review_queue(agency=world.school).break_glass
    with pytest.raises(NotFound):
        break_glass_review_create(user=world.receiving_supervisor, use_id=break_glass_use.pk, verdict="fine")
    assert BreakGlassReview.objects.count() == 2


def test_review_create_by_subject_name(world, register):
    review = review_create(user=world.lead_supervisor, subject="handoff", subject_id=register.h4.pk, verdict="fine")
    assert review.handoff_id == register.h4.pk
    with pytest.raises(ValidationError):
        review_create(user=world.lead_supervisor, subject="case", subject_id=1, verdict="fine")
    with pytest.raises(NotFound):
        review_create(user=world.lead_supervisor, subject="handoff", subject_id=999999, verdict="fine")


def test_a_bad_review_writes_nothing(world, register):
    before = (HandoffReview.objects.count(), Deadline.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError):
        handoff_review_create(user=world.lead_supervisor, handoff_id=register.h1.pk, **through_edge(
            ReviewInputSerializer, {"verdict": "follow_up_needed", "comment": "x" * 2001,
                                    "follow_up_due": timezone.now() + TOMORROW}))
    assert (HandoffReview.objects.count(), Deadline.objects.count(), AuditEvent.objects.count()) == before


def test_the_review_pages_sign_off(world, register, break_glass_use, consent_override, web):
    client = web(world.lead_supervisor)
    response = client.post(f"/supervision/handoffs/{register.h2.pk}/", {"verdict": "concern", "comment": ""})
    assert response.status_code == 400 and not HandoffReview.objects.exists()
    response = client.post(f"/supervision/handoffs/{register.h2.pk}/", {"verdict": "concern",
                                                                          "comment": "Quá hạn trả lời."})
    assert response.status_code == 302 and HandoffReview.objects.get().verdict == "concern"
    assert "Quá hạn trả lời." in client.get(response["Location"]).content.decode()
    response = client.post(f"/supervision/break-glass/{break_glass_use.pk}/", {"verdict": "fine"})
    assert response.status_code == 302 and BreakGlassReview.objects.get().agency == world.police
    response = client.post(f"/supervision/consent-overrides/{consent_override.pk}/",
                           {"verdict": "follow_up_needed", "follow_up_due": "2999-01-01T10:00"})
    assert response.status_code == 400
    due = (timezone.localtime() + TOMORROW).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/supervision/consent-overrides/{consent_override.pk}/",
                           {"verdict": "follow_up_needed", "follow_up_due": due})
    assert response.status_code == 302 and ConsentOverrideReview.objects.get().follow_up is not None
    assert web(world.receiving_supervisor).post(f"/supervision/consent-overrides/{consent_override.pk}/",
                                                {"verdict": "fine"}).status_code == 404


def test_the_queue_first_handoffs_are_the_querysets_first_rows(world, register, break_glass_use, consent_override):
    """The handoff section's lean rows (ids chosen on the handoff table, then joined) are queue_handoffs'
    first rows in its order, for a page cut anywhere."""
    from handoffs.models import Handoff
    from supervision.queue import _HANDOFF_ROWS, _first_handoffs, queue_handoffs

    columns = ("id", "case__number", "from_agency__name", "to_agency__name", "status", "emergency_override")
    for agency in (world.police, world.health, world.school):
        expected = list(queue_handoffs(agency=agency, now=register.now).values_list(*columns))
        assert _HANDOFF_ROWS.rows(model=Handoff, agency_id=agency.pk, now=register.now) == expected[:50]
        for limit in (1, 2, 3):
            assert list(_first_handoffs(agency_id=agency.pk, now=register.now, limit=limit,
                                        columns=columns)) == expected[:limit]
    assert len(expected := list(queue_handoffs(agency=world.police, now=register.now))) == 5
    assert expected[0].emergency_override


def test_a_review_sent_twice_is_saved_once(world, register, web):
    client = web(world.lead_supervisor)
    url = f"/supervision/handoffs/{register.h2.pk}/"
    token = form_tokens(client.get(url).content.decode())[""]
    sent_twice(client, HandoffReview, url, {"verdict": "concern", "comment": "Quá hạn trả lời.",
                                            "sending_token": token}, written=1)
