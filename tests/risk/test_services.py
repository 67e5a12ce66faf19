"""Recording assessments (issue 17, parts 1-2): the level by the rules, judgement that only raises
(service and database), the case's level, the timeline and audit, drafts saved part-way, the child
form's 12-hour deadline, and a review due after a new incident, a separation or a breach."""

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from audit.models import AuditEvent
from cases.models import CaseEvent, Incident
from cases.selectors import case_get_for_user
from cases.serializers import IncidentInputSerializer
from cases.services import incident_record
from notifications.models import Deadline
from risk.models import AssessmentStatus, RiskAssessment
from risk.selectors import risk_review_open
from risk.serializers import ReviewRequestInputSerializer
from risk.services import risk_review_request
from tests.cases.conftest import SURVIVOR, incident_payload
from tests.cases.services_helpers import case_open_through_edge, through_edge
from tests.risk.conftest import adult_codes, answers_with, assess, assessment_input, child_codes


def test_a_complete_assessment_is_a_record_with_its_result_and_version(world, case):
    assessment = assess(world, case, answers=answers_with(14))
    row = RiskAssessment.objects.get(pk=assessment.pk)
    assert (row.status, row.score, row.band, row.computed_level, row.level) == ("completed", 14, "high", "high", "high")
    assert (row.instrument_code, row.instrument_version, row.variant) == ("dash_vn", "2026.1", "adult")
    assert (row.assessor, row.agency) == (world.lead_responder, world.police)
    assert json.loads(row.answers)["injury"] == "yes"
    case.refresh_from_db()
    assert case.risk_level == "high"
    event = CaseEvent.objects.get(case=case, type="risk_assessed")
    assert (event.category, event.data["level"], event.data["version"]) == ("general", "high", "2026.1")
    assert "injury" not in json.dumps(event.data)
    audited = AuditEvent.objects.get(target=f"risk_assessment:{row.pk}")
    assert (audited.action, audited.categories, audited.details["level"]) == ("create", ["psychosocial"], "high")


def test_the_answers_are_sealed_in_the_database(world, case):
    from django.db import connection

    assessment = assess(world, case, answers=answers_with(3))
    with connection.cursor() as cursor:
        cursor.execute("SELECT answers, reasons FROM risk_riskassessment WHERE id = %s", [assessment.pk])
        answers, _reasons = cursor.fetchone()
    assert "injury" not in answers and answers.startswith("ck1.")


def test_judgement_raises_with_a_reason(world, case):
    assessment = assess(world, case, answers=answers_with(3), raised_level="high",
                        judgement_reason="Người gây bạo lực vừa mua dao, nạn nhân rất sợ hãi")
    assert (assessment.computed_level, assessment.level, assessment.raised) == ("low", "high", True)
    assert RiskAssessment.objects.get(pk=assessment.pk).judgement_reason.startswith("Người gây")
    event = CaseEvent.objects.get(case=case, type="risk_assessed")
    assert (event.data["computed_level"], event.data["level"]) == ("low", "high")


def test_judgement_never_lowers(world, case):
    with pytest.raises(ValidationError) as caught:
        assess(world, case, answers=answers_with(yes=["strangulation"]), raised_level="medium",
               judgement_reason="Nạn nhân nói không sao")
    assert "raised_level" in caught.value.message_dict
    assert not RiskAssessment.objects.filter(status="completed").exists()


def test_raising_needs_a_reason(world, case):
    with pytest.raises(ValidationError) as caught:
        assess(world, case, answers=answers_with(3), raised_level="severe", judgement_reason="  ")
    assert "judgement_reason" in caught.value.message_dict


def test_the_database_refuses_a_lowered_level(world, case):
    assessment = assess(world, case, answers=answers_with(14))
    with pytest.raises(IntegrityError), transaction.atomic():
        RiskAssessment.objects.filter(pk=assessment.pk).update(level="medium", level_rank=1)


def test_unknown_items_and_answers_are_refused_at_the_edge_each_by_item(world, case):
    answers = answers_with(3)
    answers["choking"] = "yes"  # an item of no form
    answers["fear"] = "maybe"
    answers["injury"] = ""  # no answer, not a wrong one
    with pytest.raises(ValidationError) as caught, translation.override("en"):
        assessment_input(world, case, answers=answers)
    assert caught.value.message_dict == {"answers.choking": ["Not an item of this form."],
                                         "answers.fear": ["Answer yes, no or not known."]}
    child_only = child_codes()[0]
    assert child_only not in adult_codes()
    with pytest.raises(ValidationError) as caught:
        assessment_input(world, case, answers={child_only: "yes"}, complete=False)
    assert set(caught.value.message_dict) == {f"answers.{child_only}"}
    with pytest.raises(ValidationError) as caught:
        assessment_input(world, case, answers=["yes"])
    assert set(caught.value.message_dict) == {"answers"}
    assert not RiskAssessment.objects.exists()


def test_every_item_must_be_answered_to_complete(world, case):
    answers = answers_with(3)
    answers.pop("injury")
    answers.pop("fear")
    with pytest.raises(ValidationError) as caught:
        assess(world, case, answers=answers)
    assert set(caught.value.message_dict) == {"answers.injury", "answers.fear"}
    # The draft's stored answers count: saved part-way, the rest completes it.
    assess(world, case, answers={"injury": "no"}, complete=False)
    with pytest.raises(ValidationError) as caught:
        assess(world, case, answers={"fear": "no"})
    assert set(caught.value.message_dict) == {f"answers.{c}" for c in adult_codes() if c not in ("injury", "fear")}
    done = assess(world, case, answers={**answers, "fear": "no"})  # injury: the draft's
    assert done.status == "completed" and json.loads(RiskAssessment.objects.get(pk=done.pk).answers)["injury"] == "no"


def test_a_draft_keeps_its_form_and_the_service_refuses_the_other_one(world, case):
    from risk.instrument import instrument_current
    from risk.services import assessment_save

    draft = assess(world, case, answers={adult_codes()[0]: "yes"}, complete=False)
    # Asked for the child form, the edge still checks against the draft's adult one.
    values = assessment_input(world, case, variant="child", answers={adult_codes()[1]: "no"}, complete=False)
    assert values["variant"].code == "adult"
    # A draft of the other form begun since the input was checked: refused by field.
    access = case_get_for_user(user=world.lead_responder, case_id=case.pk)
    with pytest.raises(ValidationError) as caught:
        assessment_save(access=access, actor=world.lead_responder, variant=instrument_current().variants["child"],
                        answers={child_codes()[0]: "yes"}, complete=False)
    assert set(caught.value.message_dict) == {"variant"}
    assert json.loads(RiskAssessment.objects.get(pk=draft.pk).answers) == {adult_codes()[0]: "yes"}


def test_a_draft_is_saved_part_way_and_completed_later(world, case):
    codes = adult_codes()
    draft = assess(world, case, answers={codes[0]: "yes", codes[1]: "no"}, complete=False)
    assert (draft.status, draft.score, draft.level) == ("draft", None, "")
    case.refresh_from_db()
    assert case.risk_level == "medium"  # unchanged by a draft (the case was opened medium)
    again = assess(world, case, answers={codes[2]: "yes"}, complete=False)
    assert again.pk == draft.pk
    assert json.loads(RiskAssessment.objects.get(pk=draft.pk).answers) == {codes[0]: "yes", codes[1]: "no",
                                                                          codes[2]: "yes"}
    rest = {c: "no" for c in codes[3:]}
    done = assess(world, case, answers=rest)
    assert (done.pk, done.status, done.score, done.level) == (draft.pk, "completed", 2, "low")
    assert not CaseEvent.objects.filter(case=case, type="risk_assessed").exclude(data__assessment_id=done.pk).exists()


def test_recording_needs_log_action_and_the_psychosocial_category(world, case):
    # Health is on the case for medical data only: it may not record the answers' category.
    with pytest.raises(PermissionDenied):
        assess(world, case, user=world.receiving_responder, answers=answers_with(3))
    # The police lead holds everything.
    assess(world, case, answers=answers_with(3))


def test_a_new_incident_makes_a_review_due_and_the_next_assessment_meets_it(world, case):
    access = case_get_for_user(user=world.lead_responder, case_id=case.pk)
    incident_record(access=access, actor=world.lead_responder, data=_incident())
    assert risk_review_open(case_id=case.pk) is None  # never assessed: nothing to review
    assess(world, case, answers=answers_with(3))
    before = timezone.now()
    incident_record(access=case_get_for_user(user=world.lead_responder, case_id=case.pk), actor=world.lead_responder,
                    data=_incident())
    review = risk_review_open(case_id=case.pk)
    assert review is not None and review.kind == "risk_review" and review.owner_agency == world.police
    assert before + datetime.timedelta(hours=47) < review.due_at <= timezone.now() + datetime.timedelta(hours=48)
    event = CaseEvent.objects.get(case=case, type="risk_review_due")
    assert (event.data["trigger"], event.data["deadline_id"]) == ("new_incident", review.pk)
    # A second incident does not stack a second review.
    incident_record(access=case_get_for_user(user=world.lead_responder, case_id=case.pk), actor=world.lead_responder,
                    data=_incident())
    assert Deadline.objects.filter(kind="risk_review", closed_at__isnull=True).count() == 1
    assess(world, case, answers=answers_with(4))
    review.refresh_from_db()
    assert review.closed_at is not None
    closed = CaseEvent.objects.get(case=case, type="deadline_closed", data__deadline_id=review.pk)
    assert closed.data["reason"] == "risk_assessed"


def test_the_case_page_shows_the_open_review_to_everyone_on_the_case(world, case, client):
    """The risk panel finds the review among the case's open deadlines that the page reads once."""
    def shown(user) -> bool:
        client.force_login(user)
        response = client.get(f"/cases/{case.pk}/")
        assert response.status_code == 200
        return 'data-testid="risk-review-due"' in response.content.decode()

    assess(world, case, answers=answers_with(3))
    assert not shown(world.lead_responder)
    incident_record(access=case_get_for_user(user=world.lead_responder, case_id=case.pk), actor=world.lead_responder,
                    data=_incident())
    assert risk_review_open(case_id=case.pk) is not None
    assert shown(world.lead_responder) and shown(world.receiving_responder)
    assess(world, case, answers=answers_with(4))
    assert not shown(world.lead_responder)


def _incident() -> dict:
    return through_edge(IncidentInputSerializer, incident_payload())


@pytest.mark.parametrize("trigger", ["separation", "breach"])
def test_a_separation_or_a_breach_makes_a_review_due(world, case, trigger):
    access = case_get_for_user(user=world.receiving_responder, case_id=case.pk)
    review = risk_review_request(access=access, actor=world.receiving_responder, trigger=trigger)
    assert review.kind == "risk_review" and review.owner_agency == world.police
    assert CaseEvent.objects.get(case=case, type="risk_review_due").data["trigger"] == trigger
    # A new incident makes a review due by itself: nobody reports one (refused at the edge).
    with pytest.raises(ValidationError) as caught, translation.override("en"):
        through_edge(ReviewRequestInputSerializer, {"trigger": "new_incident"})
    assert caught.value.message_dict == {"trigger": ["Choose a separation or a breach of an order."]}


def _child_case(world):
    survivor = dict(SURVIVOR, birth_year=timezone.localdate().year - 12)
    return case_open_through_edge(actor=world.lead_responder, agency=world.police, survivor=survivor,
                                  incident=incident_payload(), consent=None, risk_level="medium")


def test_a_child_at_serious_risk_starts_the_12_hour_deadline_once(world, time_limits):
    case = _child_case(world)
    subject = f"case:{case.pk}:child_serious_risk_intervention"
    assert not Deadline.objects.filter(subject=subject).exists()
    before = timezone.now()
    assessment = assess(world, case, answers=answers_with(yes=["sexual_images"], codes=child_codes()))
    assert (assessment.variant, assessment.level) == ("child", "high")
    deadline = Deadline.objects.get(subject=subject)
    assert deadline.rule.code == "child_serious_risk_intervention"
    assert before + datetime.timedelta(hours=12) <= deadline.due_at <= timezone.now() + datetime.timedelta(hours=12)
    assess(world, case, answers=answers_with(yes=["danger_to_life"], codes=child_codes()))
    assert Deadline.objects.filter(subject=subject).count() == 1


def test_a_child_assessment_below_high_starts_nothing(world, time_limits):
    case = _child_case(world)
    assess(world, case, answers=answers_with(yes=["abuser_access"], codes=child_codes()))
    assert not Deadline.objects.filter(subject=f"case:{case.pk}:child_serious_risk_intervention").exists()


def test_completed_assessments_are_not_reopened_as_drafts(world, case):
    done = assess(world, case, answers=answers_with(3))
    draft = assess(world, case, answers={adult_codes()[0]: "yes"}, complete=False)
    assert draft.pk != done.pk and draft.status == AssessmentStatus.DRAFT
    assert RiskAssessment.objects.get(pk=done.pk).status == "completed"
    assert Incident.objects.filter(case=case).count() == 1


def test_an_overdue_review_is_swept_like_any_deadline(world, case):
    from notifications.models import Notification
    from notifications.services import deadline_sweep

    access = case_get_for_user(user=world.lead_responder, case_id=case.pk)
    review = risk_review_request(access=access, actor=world.lead_responder, trigger="breach")
    deadline_sweep(now=review.due_at + datetime.timedelta(minutes=1))
    review.refresh_from_db()
    assert review.stage == "overdue"
    assert CaseEvent.objects.filter(case=case, type="deadline_overdue", data__deadline_id=review.pk).exists()
    assert Notification.objects.filter(kind="deadline_overdue").exists()
