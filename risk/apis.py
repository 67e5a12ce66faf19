"""The risk API: a case's assessments (list, record, one with its answers), a review made due by a
separation or a breach, the instrument, and the cases eligible for a case meeting.

Access first, input second (as the handoff API): a case not shared with the caller is 404, a missing
right or category 403, and only then is the body checked (400 with messages by field). Writes go
through risk.services; reads through risk.selectors.
"""

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from cases.apis import CaseRecordCreateApi, CaseRecordListApi
from cases.selectors import case_get_for_user, case_list_visible_to
from cases.serializers import CaseAgencyRefSerializer, CaseUserRefSerializer
from config.api import ApiView, DateTimeField, OwnApiView, action_schema, list_schema, responses
from permissions.readers import user_may_be_case_reader

from .instrument import ANSWERS, instrument_current
from .models import AssessmentStatus, AssessmentVariant
from .selectors import (
    EligibilityReason,
    assessment_answers,
    assessment_list_for_case,
    assessment_reasons,
    cases_eligible_for_meeting,
)
from .serializers import AssessmentInputSerializer, ReviewRequestInputSerializer, assessment_input_context
from .services import assessment_save, assessment_view, assessment_writer_check, risk_review_request


class RiskAssessmentSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=AssessmentStatus.choices)
    variant = serializers.ChoiceField(choices=AssessmentVariant.choices)
    instrument_version = serializers.CharField()
    score = serializers.IntegerField(allow_null=True, help_text="Number of \"yes\" answers.")
    not_known_count = serializers.IntegerField(allow_null=True)
    band = serializers.CharField(help_text="The level of the score's band (before the alone-high rules).")
    computed_level = serializers.CharField(help_text="By the instrument's rules; empty for a draft.")
    level = serializers.CharField(help_text="The computed level, or a higher one by professional judgement.")
    raised = serializers.BooleanField()
    assessor = CaseUserRefSerializer()
    agency = CaseAgencyRefSerializer()
    completed_at = DateTimeField(allow_null=True)


class RiskAssessmentSerializer(RiskAssessmentSummarySerializer):
    answers = serializers.SerializerMethodField(help_text="Item code: yes, no or not_known.")
    reasons = serializers.SerializerMethodField(
        help_text="The rules that made the computed level high: threshold, alone_high:<item>.")
    judgement_reason = serializers.CharField()

    def get_answers(self, assessment) -> dict[str, str]:
        return assessment_answers(assessment)

    def get_reasons(self, assessment) -> list[str]:
        return assessment_reasons(assessment)


@list_schema(
    "risk_assessments_list", "Risk assessments of a case",
    "Completed assessments, newest first: level, band, score, version, assessor, agency, date (every agency on the "
    "case sees these). No answers: those need the psychosocial category (see the detail). Audited as a view of the "
    "case.",
    403, 404, tags=["risk"],
)
class AssessmentListApi(CaseRecordListApi):
    ItemSerializer = RiskAssessmentSummarySerializer
    selector = staticmethod(assessment_list_for_case)


@action_schema(
    "risk_assessments_record", "Record a risk assessment (or save it part-way)",
    "Needs log_action and the psychosocial category for the acting agency. A complete assessment sets the case's "
    "risk level, meets open risk reviews and, for a child at high risk, starts the 12-hour intervention deadline "
    "(Decree 56 Art. 26).",
    400, 403, 404, tags=["risk"],
)
class AssessmentRecordApi(CaseRecordCreateApi):
    InputSerializer = AssessmentInputSerializer
    OutputSerializer = RiskAssessmentSerializer

    def input_context(self, access) -> dict:
        assessment_writer_check(access)  # a 403 before any message about the answers
        return assessment_input_context(access=access, user=self.request.user)

    def act(self, access, data: dict, **ids):
        return assessment_save(access=access, actor=self.request.user, **data)


class AssessmentCollectionApi(AssessmentListApi, AssessmentRecordApi):
    """GET lists the case's assessments, POST records one."""


class AssessmentItemApi(ApiView):
    @extend_schema(
        operation_id="risk_assessments_read",
        summary="One risk assessment with its answers",
        description="Needs the psychosocial category on the case (403 otherwise). Audited.",
        responses=responses(200, RiskAssessmentSerializer, 403, 404),
        tags=["risk"],
    )
    def get(self, request, case_id: int, assessment_id: int):
        access = case_get_for_user(user=request.user, case_id=case_id)
        assessment = assessment_view(access=access, actor=request.user, assessment_id=assessment_id)
        return Response(RiskAssessmentSerializer(assessment).data)


class RiskReviewSerializer(serializers.Serializer):
    deadline_id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    due_at = DateTimeField()


@action_schema(
    "risk_reviews_request", "Report a separation or a breach: a new risk assessment becomes due",
    "Needs log_action. Answers the case's open risk review when there is one already.",
    400, 403, 404, tags=["risk"],
)
class ReviewRequestApi(CaseRecordCreateApi):
    InputSerializer = ReviewRequestInputSerializer
    OutputSerializer = RiskReviewSerializer

    def act(self, access, data: dict, **ids):
        return risk_review_request(access=access, actor=self.request.user, trigger=data["trigger"])


class InstrumentItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    topic = serializers.CharField()
    text_vi = serializers.CharField(source="text.vi")
    text_en = serializers.CharField(source="text.en")


class InstrumentBandSerializer(serializers.Serializer):
    min = serializers.IntegerField()
    level = serializers.CharField()
    name_vi = serializers.CharField(source="name.vi")
    name_en = serializers.CharField(source="name.en")


class InstrumentVariantSerializer(serializers.Serializer):
    code = serializers.CharField()
    title_vi = serializers.CharField(source="title.vi")
    title_en = serializers.CharField(source="title.en")
    visible_high_threshold = serializers.IntegerField()
    bands = InstrumentBandSerializer(many=True)
    alone_high = serializers.ListField(child=serializers.CharField())
    high_starts_time_limit = serializers.CharField()
    items = InstrumentItemSerializer(many=True)


class RiskInstrumentSerializer(serializers.Serializer):
    code = serializers.CharField()
    version = serializers.CharField()
    answers = serializers.ListField(child=serializers.CharField())
    variants = InstrumentVariantSerializer(many=True)


class InstrumentApi(OwnApiView):
    @extend_schema(operation_id="risk_instrument", summary="The risk instrument in force",
                   description="Its items in Vietnamese and English, answers and rules (risk/instruments).",
                   responses=responses(200, RiskInstrumentSerializer, 403), tags=["risk"])
    def get(self, request):
        instrument = instrument_current()
        return Response(RiskInstrumentSerializer({
            "code": instrument.code, "version": instrument.version, "answers": list(ANSWERS),
            "variants": [{**vars(v), "alone_high": sorted(v.alone_high)} for v in instrument.variants.values()],
        }).data)


class MeetingEligibleCaseSerializer(serializers.Serializer):
    case_id = serializers.IntegerField(source="case.pk")
    number = serializers.CharField(source="case.number")
    lead_agency = CaseAgencyRefSerializer(source="case.lead_agency")
    reasons = serializers.ListField(child=serializers.ChoiceField(choices=EligibilityReason.ALL))
    level = serializers.CharField(help_text="Of the latest assessment; empty when never assessed.")
    incidents_in_window = serializers.IntegerField()
    last_meeting_on = serializers.DateField(allow_null=True)


class MeetingEligibleApi(OwnApiView):
    @extend_schema(
        operation_id="risk_meeting_eligible",
        summary="Cases eligible for a case meeting, with the reasons",
        description="Of the open cases you may see: high risk at the latest assessment, repeated incidents "
        "(RISK_REPEATED_INCIDENTS within RISK_REPEATED_INCIDENTS_DAYS), or a new incident within "
        "RISK_INCIDENT_AFTER_MEETING_DAYS of the last meeting. Ordered by case number.",
        responses=responses(200, MeetingEligibleCaseSerializer(many=True), 403),
        tags=["risk"],
    )
    def get(self, request):
        if not user_may_be_case_reader(request.user):
            raise PermissionDenied
        rows = cases_eligible_for_meeting(cases=case_list_visible_to(user=request.user))
        return Response(MeetingEligibleCaseSerializer(rows, many=True).data)
