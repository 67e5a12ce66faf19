"""Reads of the risk app: a case's assessments for a viewer, and the cases eligible for a case meeting
with the reasons why.

Who sees what: every agency on the case sees the assessments' level, band, score, version, assessor,
agency and date (coordination facts, like the case's risk level); the answers and a judgement's
reason need the psychosocial category (risk.models.ASSESSMENT_CATEGORY). A draft is its assessor's
own: nobody else sees it, colleagues included.
"""

import datetime
import json
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.models import Case, CaseStatus, Incident, RiskLevel
from cases.selectors import CaseAccess, case_page_has_none
from config.compiled import CompiledModelsByShape
from config.exceptions import NotFound
from notifications.models import Deadline

from .hooks import LastMeetingProvider, last_meeting_dates
from .instrument import level_rank
from .models import ASSESSMENT_CATEGORY, RISK_PANEL, AssessmentStatus, RiskAssessment


def assessment_list_for_case(*, access: CaseAccess) -> QuerySet[RiskAssessment]:
    """The case's completed assessments, newest first."""
    return (RiskAssessment.objects.filter(case_id=access.case.pk, status=AssessmentStatus.COMPLETED)
            .select_related("assessor", "agency").order_by("-completed_at", "-id"))


def _history_and_draft(limit: int, case_id: int, user_id: int) -> QuerySet[RiskAssessment]:
    return (RiskAssessment.objects.filter(Q(status=AssessmentStatus.COMPLETED)
                                          | Q(status=AssessmentStatus.DRAFT, assessor_id=user_id), case_id=case_id)
            .select_related("assessor", "agency").order_by("-completed_at", "-id")[:limit + 1])


_HISTORY_AND_DRAFT = CompiledModelsByShape(_history_and_draft, case_id="int", user_id="int")


def assessment_history_and_draft(*, access: CaseAccess, user: User, limit: int = 20
                                 ) -> tuple[list[RiskAssessment], RiskAssessment | None]:
    """The case page's panel in one query (compiled once): the newest `limit` completed assessments,
    and the user's own draft (None when they have none)."""
    if case_page_has_none(access, RISK_PANEL):
        return [], None  # the case page's statement found that the case has no assessment at all
    rows = _HISTORY_AND_DRAFT.objects(limit, case_id=access.case.pk, user_id=user.pk, model=RiskAssessment)
    drafts = [row for row in rows if row.status == AssessmentStatus.DRAFT]
    history = [row for row in rows if row.status == AssessmentStatus.COMPLETED][:limit]
    return history, (drafts[0] if drafts else None)


def assessment_draft_for(*, access: CaseAccess, user: User) -> RiskAssessment | None:
    """The user's own unfinished assessment of the case, if any."""
    return (RiskAssessment.objects.select_related("case", "case__data_key")
            .filter(case_id=access.case.pk, assessor=user, status=AssessmentStatus.DRAFT).first())


def assessment_get(*, access: CaseAccess, assessment_id: int) -> RiskAssessment:
    """One completed assessment with its answers: NotFound when the case has none of this id,
    PermissionDenied when the viewer may not read psychosocial data on the case."""
    if isinstance(assessment_id, bool) or not isinstance(assessment_id, int):
        raise NotFound
    assessment = (RiskAssessment.objects.select_related("assessor", "agency", "case", "case__data_key")
                  .filter(pk=assessment_id, case_id=access.case.pk, status=AssessmentStatus.COMPLETED).first())
    if assessment is None:
        raise NotFound
    if not access.sees(ASSESSMENT_CATEGORY):
        raise PermissionDenied
    return assessment


def assessment_answers(assessment: RiskAssessment) -> dict[str, str]:
    return json.loads(assessment.answers) if assessment.answers else {}


def assessment_reasons(assessment: RiskAssessment) -> list[str]:
    return json.loads(assessment.reasons) if assessment.reasons else []


def latest_assessed_level(case_id: int) -> str | None:
    """The level of the case's latest completed assessment (None when never assessed): the lowest
    level the case may be set to by hand (cases.risk_floor)."""
    return (RiskAssessment.objects.filter(case_id=case_id, status=AssessmentStatus.COMPLETED)
            .order_by("-completed_at", "-id").values_list("level", flat=True).first())


def risk_review_open(*, case_id: int) -> Deadline | None:
    """The case's open risk review (a new assessment due), if any."""
    return (Deadline.objects.filter(case_id=case_id, kind=Deadline.Kind.RISK_REVIEW, closed_at__isnull=True,
                                    subject__startswith=f"case:{case_id}:risk_review:")
            .order_by("due_at").first())


# --- Eligibility for a case meeting -------------------------------------------------------------


class EligibilityReason:
    """Why a case is eligible for a case meeting (issue 17, part 3); several may hold at once."""

    HIGH_RISK = "high_risk"  # its latest assessment is high or severe
    REPEATED_INCIDENTS = "repeated_incidents"  # RISK_REPEATED_INCIDENTS incidents within the window
    INCIDENT_AFTER_MEETING = "incident_after_meeting"  # a new incident within the window after its last meeting

    ALL = (HIGH_RISK, REPEATED_INCIDENTS, INCIDENT_AFTER_MEETING)


@dataclass(frozen=True)
class MeetingEligibility:
    case: Case
    reasons: tuple[str, ...]
    level: str  # of the latest assessment ("" when never assessed)
    incidents_in_window: int
    last_meeting_on: datetime.date | None


def _incident_day():
    # An incident counts from when it happened, or from when it was reported when that is unknown.
    return Coalesce("occurred_on", "reported_on")


def cases_eligible_for_meeting(*, cases: QuerySet[Case], today: datetime.date | None = None,
                               last_meeting_on: LastMeetingProvider | None = None) -> list[MeetingEligibility]:
    """Of `cases` (those a coordinator may see: cases.selectors.case_list_visible_to), the open ones
    eligible for a case meeting, each with every reason that holds:
    - HIGH_RISK: its latest completed assessment is high or severe;
    - REPEATED_INCIDENTS: at least RISK_REPEATED_INCIDENTS incidents on or after
      today - RISK_REPEATED_INCIDENTS_DAYS;
    - INCIDENT_AFTER_MEETING: an incident after its last meeting, at most
      RISK_INCIDENT_AFTER_MEETING_DAYS after it (the meeting date comes from `last_meeting_on`, by
      default the provider the meeting app registers in risk.hooks).
    Three queries whatever the number of cases (the cases with their counts, the incidents after a
    meeting, and whatever the provider needs). Ordered by case number."""
    today = today or timezone.localdate()
    provider = last_meeting_on or last_meeting_dates
    since = today - datetime.timedelta(days=settings.RISK_REPEATED_INCIDENTS_DAYS)
    latest = (RiskAssessment.objects.filter(case_id=OuterRef("pk"), status=AssessmentStatus.COMPLETED)
              .order_by("-completed_at", "-id"))
    rows = list(
        cases.exclude(status=CaseStatus.CLOSED)
        .annotate(latest_rank=Subquery(latest.values("level_rank")[:1]),
                  latest_level=Subquery(latest.values("level")[:1]),
                  recent_incidents=Count("incidents", filter=Q(incidents__occurred_on__gte=since)
                                         | Q(incidents__occurred_on__isnull=True, incidents__reported_on__gte=since),
                                         distinct=True))
        .order_by("number")
    )
    meetings = provider([case.pk for case in rows]) if rows else {}
    after_meeting: set[int] = set()
    if meetings:
        window = datetime.timedelta(days=settings.RISK_INCIDENT_AFTER_MEETING_DAYS)
        days = Incident.objects.filter(case_id__in=list(meetings)).annotate(day=_incident_day())
        for case_id, day in days.values_list("case_id", "day"):
            met = meetings.get(case_id)
            if met is not None and met < day <= met + window:
                after_meeting.add(case_id)
    high = level_rank(RiskLevel.HIGH)
    result = []
    for case in rows:
        reasons = []
        if case.latest_rank is not None and case.latest_rank >= high:
            reasons.append(EligibilityReason.HIGH_RISK)
        if case.recent_incidents >= settings.RISK_REPEATED_INCIDENTS:
            reasons.append(EligibilityReason.REPEATED_INCIDENTS)
        if case.pk in after_meeting:
            reasons.append(EligibilityReason.INCIDENT_AFTER_MEETING)
        if reasons:
            result.append(MeetingEligibility(case=case, reasons=tuple(reasons), level=case.latest_level or "",
                                             incidents_in_window=case.recent_incidents,
                                             last_meeting_on=meetings.get(case.pk)))
    return result


