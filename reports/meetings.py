"""Indicators of the response to risk (issue 17, part 7): high-risk assessments, case meetings held,
cases discussed at them, and action plan items done on time.

Registered in reports.indicators' table registry like every other table (one GROUP BY each, under
the same disclosure control; ReportsConfig.ready() imports this module). Counting rules (they are
the definitions the report's readers get):

* High-risk assessments: completed risk assessments (risk.RiskAssessment) whose level (the computed
  level or the one raised by professional judgement) is high or severe, in the month of
  `completed_at` (Asia/Ho_Chi_Minh), in the case's province, by level and by form (adult, or the
  child form of Decree 56's initial assessment: its counts are children's, under the child
  threshold, see reports.child_cells). Cases without statistics consent are left out. A case
  assessed twice in the month counts twice.
* Meetings held: case meetings (conferences.CaseMeeting) with status held whose day (`held_on`) is
  in the month, in the province of the coordinating agency, by how they were held (in person or by
  call). A meeting counts whatever its cases' consent: it is a meeting of agencies, not a person.
* Cases discussed: the cases on the agenda of those meetings (conferences.MeetingCase), in the
  month of the meeting's day, in the case's province, by the case's lead agency sector. A case
  discussed at two meetings of the month counts twice. Cases without statistics consent are left
  out.
* Plan items by outcome: action plan items (conferences.ActionPlanItem) due in the month, in the
  province of the owner agency (the agency accountable for them, as the deadlines table counts),
  by outcome and owner agency sector: done on time (finished at or before the due time), done late,
  still open (the report is built after the month, so an open item due in it is overdue).
  Cancelled items are left out, and so are items of cases without statistics consent.
"""

from django.db.models import Case as SqlCase
from django.db.models import Exists, F, OuterRef, Q, Value, When
from django.db.models.query import QuerySet

from agencies.models import Province
from cases.models import RiskLevel
from conferences.models import ActionPlanItem, CaseMeeting, MeetingCase, MeetingMode, MeetingStatus, PlanItemStatus
from risk.models import AssessmentStatus, AssessmentVariant, RiskAssessment

from .indicators import COUNT_COLUMN, SECTOR_GROUPS, Month, _sector_group, counted, province_source

HIGH_RISK_LEVELS = (RiskLevel.HIGH.value, RiskLevel.SEVERE.value)
ASSESSMENT_FORMS = tuple(AssessmentVariant.values)
MEETING_MODES = tuple(MeetingMode.values)
PLAN_OUTCOMES = ("on_time", "late", "open_overdue")


def high_risk_assessments(month: Month):
    start, end = month.bounds
    return RiskAssessment.objects.filter(
        month.consent.q("case__"), status=AssessmentStatus.COMPLETED, level__in=HIGH_RISK_LEVELS,
        completed_at__gte=start, completed_at__lt=end,
    )


def meetings_held(month: Month):
    return CaseMeeting.objects.filter(
        status=MeetingStatus.HELD, held_on__gte=month.first_day, held_on__lte=month.last_day,
    )


def cases_discussed(month: Month):
    return MeetingCase.objects.filter(
        month.consent.q("case__"), meeting__status=MeetingStatus.HELD, meeting__held_on__gte=month.first_day,
        meeting__held_on__lte=month.last_day,
    )


def plan_items_due(month: Month):
    start, end = month.bounds
    return ActionPlanItem.objects.filter(month.consent.q("case__"), due_at__gte=start, due_at__lt=end).exclude(
        status=PlanItemStatus.CANCELLED)


@province_source
def _provinces(month: Month):
    """Provinces with data in any of these tables, in one query."""
    here = OuterRef("pk")
    return Province.objects.filter(
        Exists(high_risk_assessments(month).filter(case__province=here))
        | Exists(meetings_held(month).filter(coordinator_agency__province=here))
        | Exists(cases_discussed(month).filter(case__province=here))
        | Exists(plan_items_due(month).filter(owner_agency__province=here))
    ).values_list("id", flat=True)


counted("high_risk_assessments", fields=("case__province__code", "level", "variant"),
        population="risk_assessments_high", row_dim="risk_level", rows=HIGH_RISK_LEVELS,
        col_dims=("assessment_form",), columns=[(f,) for f in ASSESSMENT_FORMS])(high_risk_assessments)
counted("meetings_held", fields=("coordinator_agency__province__code", "mode"), population="meetings_held",
        row_dim="meeting_mode", rows=MEETING_MODES, col_dims=(), columns=[COUNT_COLUMN])(meetings_held)


@counted("cases_discussed", fields=("case__province__code", "sector"), population="cases_discussed",
         row_dim="sector", rows=SECTOR_GROUPS, col_dims=(), columns=[COUNT_COLUMN])
def cases_discussed_table(month: Month) -> QuerySet:
    return cases_discussed(month).annotate(sector=_sector_group("case__lead_agency__sector"))


@counted("plan_items_on_time", fields=("owner_agency__province__code", "outcome", "sector"),
         population="plan_items_due", row_dim="plan_outcome", rows=PLAN_OUTCOMES, col_dims=("owner_sector",),
         columns=[(s,) for s in SECTOR_GROUPS])
def plan_items_on_time_table(month: Month) -> QuerySet:
    return plan_items_due(month).annotate(
        outcome=SqlCase(
            When(Q(status=PlanItemStatus.DONE, finished_at__lte=F("due_at")), then=Value("on_time")),
            When(status=PlanItemStatus.DONE, then=Value("late")),
            default=Value("open_overdue"),
        ),
        sector=_sector_group("owner_agency__sector"),
    )
