"""seed_demo's risk step: a few assessments of demo cases, recorded through the service by a
responder of each case's lead agency, one of them high (visible high risk and a strangulation)."""

from django.db.models import Count

from agencies.demo import DemoWorld
from agencies.models import Membership
from cases.models import Case, CaseStatus
from cases.selectors import case_get_for_user
from config.api import input_validate

from .instrument import instrument_current
from .models import AssessmentVariant, RiskAssessment
from .serializers import AssessmentInputSerializer, assessment_input_context
from .services import assessment_save

DEMO_ASSESSMENTS = 4
# How many "yes" each demo assessment gives, in the item order; the first one is high.
DEMO_YES = (15, 11, 3, 6)


def seed_demo_risk_step(world: DemoWorld) -> None:
    """Does nothing once any assessment exists (a second seed_demo)."""
    if RiskAssessment.objects.exists():
        return
    agency_ids = [agency.pk for agency in world.agencies.values()]
    cases = (Case.objects.filter(lead_agency_id__in=agency_ids, survivor__birth_year__lte=2000)
             .exclude(status=CaseStatus.CLOSED).select_related("survivor").order_by("number"))
    variant = instrument_current().variants[AssessmentVariant.ADULT]
    made = 0
    for case in cases:
        if made == DEMO_ASSESSMENTS:
            break
        # A responder of that agency alone: a person of several agencies would have to choose one first.
        member = (Membership.objects.filter(agency_id=case.lead_agency_id, role="responder")
                  .annotate(agencies=Count("user__memberships__agency", distinct=True)).filter(agencies=1)
                  .select_related("user").order_by("user__username").first())
        if member is None:
            continue
        yes = DEMO_YES[made]
        answers = {code: ("yes" if index < yes else "no") for index, code in enumerate(variant.item_codes)}
        if made == 0:
            answers["strangulation"] = "yes"
        if made == 2:
            answers["criminal_history"] = "not_known"
        access = case_get_for_user(user=member.user, case_id=case.pk)
        assessment_save(access=access, actor=member.user, **input_validate(
            AssessmentInputSerializer, {"variant": variant.code, "answers": answers, "complete": True},
            **assessment_input_context(access=access, user=member.user)))
        made += 1
