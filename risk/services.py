"""Writes of the risk app: save an assessment (part-way or complete), make a review due.

Every write checks the case access first (cases.selectors.CaseAccess), writes its audit event in the
same transaction, and tells the case timeline (cases.events) what every agency on the case may know:
the level, not the answers.

Rules (README, "Risk that drives the response"):
- Recording needs log_action on the case and the psychosocial category (the answers' category) for
  the acting agency.
- Professional judgement may raise the computed level, never lower it, and only with a written
  reason (here, and the database's check risk_assessment_judgement_only_raises).
- A completed assessment sets the case's risk level, meets every open risk review of the case and,
  for a child variant that comes out high, starts the 12-hour emergency intervention deadline
  (Decree 56 Art. 26) unless the case has one already.
- A new incident (cases.signals.incident_recorded), a separation or a breach of an order makes a
  review due: one open risk_review Deadline per case, owned by the lead agency.
"""

import datetime
import json
import secrets

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency
from audit.models import AuditAction
from audit.services import audit_record
from cases import events
from cases.events import DeadlineClosure
from cases.models import Case, Incident, RiskLevel
from cases.selectors import CaseAccess
from deadlines.services import case_path
from notifications.models import Deadline
from notifications.services import deadline_close, deadline_create
from permissions.categories import CaseRight

from .instrument import Variant, instrument_current, level_rank, score
from .models import ASSESSMENT_CATEGORY, AssessmentStatus, AssessmentVariant, RiskAssessment

REASON_LIMIT = 2000
RISK_REVIEW_TRIGGERS = ("new_incident", "separation", "breach")


def review_subject_prefix(case_id: int) -> str:
    return f"case:{case_id}:risk_review:"


def variant_default(case: Case) -> str:
    """The child form for a survivor under 16 today (Law on Children), the adult one otherwise."""
    return AssessmentVariant.CHILD if case.survivor.is_child else AssessmentVariant.ADULT


def assessment_writer_check(access: CaseAccess) -> Agency:
    """The agency an assessment is recorded for, or PermissionDenied: log_action and the psychosocial
    category for the acting agency (ActingAgencyRequired when a person of several must choose)."""
    if not access.can(CaseRight.LOG_ACTION):
        raise PermissionDenied
    agency = access.acting_agency()
    if not access.writes(ASSESSMENT_CATEGORY):
        raise PermissionDenied(_("Your agency may not record psychosocial data on this case, which the "
                                 "assessment's answers are."))
    return agency


def _completeness_check(answers: dict[str, str], variant: Variant) -> None:
    missing = {f"answers.{code}": [_("Answer this question (\"not known\" is an answer).")]
               for code in variant.item_codes if code not in answers}
    if missing:
        raise ValidationError(missing)


def _judged_level(*, computed: str, raised: str, reason: str) -> str:
    """The level after professional judgement: the computed one, or a higher one with a reason."""
    if not raised or raised == computed:
        return computed
    if level_rank(raised) < level_rank(computed):
        raise ValidationError({"raised_level": [
            _("Professional judgement may raise the level, never lower it: the checklist gives %(level)s.")
            % {"level": RiskLevel(computed).label}]})
    if not reason:
        raise ValidationError({"judgement_reason": [_("Write why you raise the level.")]})
    return raised


@transaction.atomic
def assessment_save(*, access: CaseAccess, actor: User, variant: Variant, answers: dict[str, str],
                    raised_level: str = "", judgement_reason: str = "", complete: bool) -> RiskAssessment:
    """Save the actor's assessment of the case: their draft (created on first save, continued after)
    with the answers given so far, and with `complete` the result: every item answered, the level
    computed by the instrument's rules and, where judgement raises it, the reason. The values are
    risk.serializers.AssessmentInputSerializer's (answers of `variant`'s items, the variant the
    draft keeps when there is one)."""
    agency = assessment_writer_check(access)
    instrument = instrument_current()
    case = Case.objects.select_for_update(of=("self",)).select_related("survivor", "survivor__data_key").get(
        pk=access.case.pk)
    draft = (RiskAssessment.objects.select_for_update(of=("self",)).select_related("case", "case__data_key")
             .filter(case=case, assessor=actor, status=AssessmentStatus.DRAFT).first())
    if draft is not None and draft.variant != variant.code:
        # Begun by another request since the input was checked against the other form.
        raise ValidationError({"variant": [_("You have a draft of the other form: finish that one first.")]})
    now = timezone.now()
    if draft is not None and draft.instrument_version != instrument.version:
        # The instrument changed since the draft was begun: its answers are kept where the items still are.
        draft.instrument_version = instrument.version
    assessment = draft or RiskAssessment(case=case, assessor=actor, agency=agency, instrument_code=instrument.code,
                                         instrument_version=instrument.version, variant=variant.code, created_at=now)
    assessment.agency = agency
    stored = json.loads(assessment.answers) if draft and assessment.answers else {}
    answers = {code: value for code, value in {**stored, **answers}.items() if code in variant.item_codes}
    if complete:
        _completeness_check(answers, variant)
    assessment.answers = json.dumps(answers, sort_keys=True)
    assessment.updated_at = now
    if not complete:
        assessment.save()
        audit_record(actor=actor, action=AuditAction.CHANGE if draft else AuditAction.CREATE, case_id=case.pk,
                     agency_id=agency.pk, categories=[ASSESSMENT_CATEGORY],
                     target=f"risk_assessment:{assessment.pk}", details={"status": "draft", "answered": len(answers)})
        return assessment
    result = score(variant, answers)
    level = _judged_level(computed=result.level, raised=raised_level, reason=judgement_reason)
    assessment.status = AssessmentStatus.COMPLETED
    assessment.score, assessment.not_known_count, assessment.band = result.score, result.not_known, result.band.level
    assessment.computed_level, assessment.computed_rank = result.level, level_rank(result.level)
    assessment.level, assessment.level_rank = level, level_rank(level)
    assessment.judgement_reason = judgement_reason if level != result.level else ""
    assessment.reasons = json.dumps(list(result.reasons))
    assessment.completed_at = now
    assessment.save()
    previous = case.risk_level
    Case.objects.filter(pk=case.pk).update(risk_level=level, updated_at=now)
    events.risk_assessed(case_id=case.pk, assessment_id=assessment.pk, actor=actor, agency=agency, at=now,
                         level=level, computed_level=result.level, variant=variant.code, version=instrument.version)
    _reviews_met(case=case, actor=actor, agency=agency, at=now, assessment=assessment)
    if variant.high_starts_time_limit and level_rank(level) >= level_rank(RiskLevel.HIGH):
        _time_limit_start(case=case, code=variant.high_starts_time_limit, at=now)
    audit_record(actor=actor, action=AuditAction.CREATE, case_id=case.pk, agency_id=agency.pk,
                 categories=[ASSESSMENT_CATEGORY], target=f"risk_assessment:{assessment.pk}",
                 details={"status": "completed", "level": level, "computed_level": result.level,
                          "previous_case_level": previous, "version": instrument.version})
    return assessment


def _reviews_met(*, case: Case, actor: User, agency: Agency, at: datetime.datetime, assessment: RiskAssessment) -> None:
    open_reviews = Deadline.objects.filter(case_id=case.pk, subject__startswith=review_subject_prefix(case.pk),
                                           closed_at__isnull=True).select_related("owner_agency", "rule")
    for deadline in open_reviews:
        if deadline_close(subject=deadline.subject, reason=f"risk_assessment:{assessment.pk}"):
            events.deadline_closed(deadline=deadline, reason=DeadlineClosure.RISK_ASSESSED, actor=actor,
                                   agency=agency, at=at)


def _time_limit_start(*, case: Case, code: str, at: datetime.datetime) -> None:
    """The legal limit, counted from now, unless the case has (or had) one: it runs from the first
    time the risk was known (deadlines.services starts it at opening when the risk was high then)."""
    subject = f"case:{case.pk}:{code}"
    if Deadline.objects.filter(subject=subject).exists():
        return
    deadline = deadline_create(kind=Deadline.Kind.LEGAL_LIMIT, subject=subject, owner_agency=case.lead_agency,
                               owner_user=case.responsible, rule=code, start=at, case_id=case.pk,
                               case_number=case.number, link=case_path(case.pk))
    events.deadline_started(deadline=deadline, actor=None, agency=case.lead_agency, at=at)


def _review_due(*, case: Case, trigger: str, actor: User, agency: Agency | None, at: datetime.datetime) -> Deadline:
    """The case's open risk review, or a new one due RISK_REVIEW_HOURS from now."""
    existing = (Deadline.objects.filter(case_id=case.pk, subject__startswith=review_subject_prefix(case.pk),
                                        closed_at__isnull=True).order_by("due_at").first())
    if existing is not None:
        return existing
    deadline = deadline_create(
        kind=Deadline.Kind.RISK_REVIEW, subject=f"{review_subject_prefix(case.pk)}{secrets.token_hex(6)}",
        owner_agency=case.lead_agency, owner_user=case.responsible,
        due_at=at + datetime.timedelta(hours=settings.RISK_REVIEW_HOURS), start=at, case_id=case.pk,
        case_number=case.number, link=case_path(case.pk),
    )
    events.risk_review_due(deadline=deadline, trigger=trigger, actor=actor, agency=agency, at=at)
    return deadline


@transaction.atomic
def risk_review_request(*, access: CaseAccess, actor: User, trigger: str) -> Deadline:
    """A responder reports a separation or a breach of an order (`trigger`, checked by
    risk.serializers.ReviewRequestInputSerializer): a new assessment becomes due (the open review,
    when there is one). Needs log_action; no category: the fact is a coordination one."""
    if not access.can(CaseRight.LOG_ACTION):
        raise PermissionDenied
    agency = access.acting_agency()
    now = timezone.now()
    case = Case.objects.select_for_update(of=("self",)).select_related("lead_agency", "responsible").get(
        pk=access.case.pk)
    deadline = _review_due(case=case, trigger=trigger, actor=actor, agency=agency, at=now)
    audit_record(actor=actor, action=AuditAction.CREATE, case_id=case.pk, agency_id=agency.pk,
                 target=f"deadline:{deadline.pk}", details={"risk_review": trigger})
    return deadline


def risk_review_after_incident(sender, *, incident: Incident, actor: User, agency: Agency, at: datetime.datetime,
                               **kwargs) -> None:
    """Receiver of cases.signals.incident_recorded (connected in RiskConfig.ready): a new incident
    of a case that has been assessed makes a new assessment due, in the incident's transaction."""
    if not RiskAssessment.objects.filter(case_id=incident.case_id, status=AssessmentStatus.COMPLETED).exists():
        return
    case = Case.objects.select_related("lead_agency", "responsible").get(pk=incident.case_id)
    _review_due(case=case, trigger="new_incident", actor=actor, agency=agency, at=at)


def assessment_view(*, access: CaseAccess, actor: User, assessment_id: int) -> RiskAssessment:
    """One assessment with its answers for a viewer who may read psychosocial data on the case
    (risk.selectors.assessment_get), with its audit event, committed before anything is shown."""
    from .selectors import assessment_get

    with transaction.atomic():
        assessment = assessment_get(access=access, assessment_id=assessment_id)
        audit_record(actor=actor, action=AuditAction.VIEW, case_id=access.case.pk,
                     agency_id=access.agency.pk if access.agency else None, categories=[ASSESSMENT_CATEGORY],
                     target=f"risk_assessment:{assessment.pk}")
    return assessment
