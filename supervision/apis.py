"""The supervision API: the handoff register and its figures, one handoff, reviews and the review
queue, access review (JSON and CSV), the unusual-access report, the dashboard, and break-glass.

One APIView per operation with its own filter/input and output serializers. Every supervision
endpoint resolves the supervised agency first (403 for anyone who supervises no agency or asks for
one they do not supervise); errors have the case API's shape (dotted field paths → messages).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from agencies.models import Agency, Sector
from audit.models import AuditAction
from cases import serializers as cases_serializers
from cases.breakglass import break_glass_open
from cases.models import RiskLevel
from config.api import ApiView, CursorPage, DateTimeField, action_schema, read_schema, responses
from handoffs.models import HandoffKind, HandoffStatus, Urgency
from permissions.categories import DataCategory

from . import access_review, selectors
from .dashboard import MAX_WEEKS, dashboard
from .forms import AccessLogFilterForm
from .models import DeadlineState, Direction, Verdict
from .queue import review_queue
from .serializers import BreakGlassInputSerializer, ReviewInputSerializer
from .services import review_create

TAGS = ["supervision"]
REFUSALS = {
    "d403": "Not signed in, not a supervisor, or not a supervisor of that agency.",
    "d404": "No such item, or one of no agency you supervise.",
}


def _report(operation_id: str, summary: str, description: str | None, *codes: int):
    """The schema of a supervision view's GET (read_schema): its filter, its answer, the supervisors' refusals."""
    return read_schema(operation_id, summary, description, *codes, tags=TAGS, **REFUSALS)


def _action(operation_id: str, summary: str, description: str, *codes: int):
    """The schema of a supervision view's POST (action_schema): its input, its answer, the supervisors' refusals."""
    return action_schema(operation_id, summary, description, *codes, tags=TAGS, **REFUSALS)


@extend_schema_field({"type": "integer", "nullable": True})
class SecondsField(serializers.Field):
    """A duration as whole seconds (null when the step has not happened)."""

    def to_representation(self, value):
        return None if value is None else int(value.total_seconds())


class SupervisionAgencyRefSerializer(cases_serializers.CaseAgencyRefSerializer):
    pass


class SupervisionAgencyFilterSerializer(serializers.Serializer):
    agency = serializers.IntegerField(required=False, min_value=1,
                                      help_text="The supervised agency; defaults to your first.")


# A filter of a period: each declares its own `since` and `until` (their help differs); the end may not
# come before the start. (A comment, not a docstring: the schema would show it.)
class PeriodFilterSerializer(SupervisionAgencyFilterSerializer):
    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": ["The end of the period comes before its start."]})
        return attrs


class SupervisionApiView(ApiView):
    """Resolves the agency from ?agency= for every supervision endpoint."""

    # A view's query (checked by `filtered`, documented by `_report`): ?agency= alone unless it says more.
    FilterSerializer: type[serializers.Serializer] = SupervisionAgencyFilterSerializer

    def supervised(self, request, agency_id: int | None = None) -> Agency:
        if agency_id is None:
            query = {k: v for k, v in request.query_params.items() if k == "agency"}
            params = SupervisionAgencyFilterSerializer(data=query)
            params.is_valid(raise_exception=True)
            agency_id = params.validated_data.get("agency")
        self.agencies = selectors.supervised_agencies(user=request.user)
        self.agency_id = agency_id
        return selectors.supervised_agency_get(user=request.user, agency_id=agency_id, agencies=self.agencies)

    def filtered(self, request) -> tuple[dict, Agency]:
        """The query parameters, valid by the view's FilterSerializer, and the supervised agency they name."""
        data = _validated(self.FilterSerializer, request)
        return data, self.supervised(request, data.get("agency"))


def _validated(serializer_class, request) -> dict:
    data = request.query_params.copy()
    lists = {name for name, f in serializer_class().fields.items() if isinstance(f, serializers.ListField)}
    values = {key: (data.getlist(key) if key in lists else data.get(key)) for key in data}
    serializer = serializer_class(data=values)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- Register --------------------------------------------------------------------------------------


class HandoffRegisterFilterSerializer(PeriodFilterSerializer):
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    status = serializers.ListField(child=serializers.ChoiceField(choices=HandoffStatus.choices), required=False,
                                   help_text="Repeat the parameter for several.")
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    kind = serializers.ChoiceField(choices=HandoffKind.choices, required=False)
    since = serializers.DateField(required=False, help_text="Sent on or after this day (Viet Nam).")
    until = serializers.DateField(required=False, help_text="Sent on or before this day (Viet Nam).")
    counterpart = serializers.IntegerField(required=False, min_value=1, help_text="The other agency's id.")
    sector = serializers.ChoiceField(choices=Sector.choices, required=False, help_text="The other agency's sector.")
    deadline = serializers.ChoiceField(choices=DeadlineState.choices, required=False)
    overdue = serializers.BooleanField(required=False, default=False,
                                       help_text="Only handoffs waiting for an answer past their due time.")
    reviewed = serializers.BooleanField(required=False, allow_null=True, default=None)


def _register_filters(data: dict) -> selectors.RegisterFilters:
    return selectors.RegisterFilters(
        direction=data.get("direction"), statuses=tuple(data.get("status") or ()), urgency=data.get("urgency"),
        kind=data.get("kind"), since=data.get("since"), until=data.get("until"), counterpart=data.get("counterpart"),
        sector=data.get("sector"), overdue=data.get("overdue", False), deadline=data.get("deadline"),
        reviewed=data.get("reviewed"),
    )


class HandoffRegisterRowSerializer(cases_serializers.CaseRecordSerializer):
    direction = serializers.ChoiceField(choices=Direction.choices)
    kind = serializers.ChoiceField(choices=HandoffKind.choices)
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    status = serializers.ChoiceField(choices=HandoffStatus.choices)
    from_agency = SupervisionAgencyRefSerializer()
    to_agency = SupervisionAgencyRefSerializer()
    emergency_override = serializers.BooleanField()
    sent_at = DateTimeField()
    due_at = DateTimeField()
    viewed_at = DateTimeField(allow_null=True)
    responded_at = DateTimeField(allow_null=True)
    first_action_at = DateTimeField(allow_null=True)
    completed_at = DateTimeField(allow_null=True)
    withdrawn_at = DateTimeField(allow_null=True)
    to_view_seconds = SecondsField(source="to_view")
    to_answer_seconds = SecondsField(source="to_answer")
    to_first_action_seconds = SecondsField(source="to_first_action")
    to_completion_seconds = SecondsField(source="to_completion")
    deadline_state = serializers.ChoiceField(choices=DeadlineState.choices)
    overdue = serializers.BooleanField()
    decline_reason = serializers.CharField(allow_blank=True)
    case_handoffs = serializers.IntegerField(
        help_text="Handoffs of the case in all, withdrawn ones not counted; once your agency no longer sees the case "
                  "(consent withdrawn or expired, handoff ended), only your agency's own handoffs of it.")
    review_verdict = serializers.ChoiceField(choices=Verdict.choices, allow_null=True)
    reviewed_at = DateTimeField(allow_null=True)


@_report(
    "supervision_handoffs_list", "Handoff register",
    "Handoffs sent and received by the agency, newest first, with the durations from sending (seconds), the "
    "response deadline state and the agency's latest review.",
    400, 403,
)
class HandoffRegisterApi(SupervisionApiView):
    FilterSerializer = HandoffRegisterFilterSerializer
    OutputSerializer = HandoffRegisterRowSerializer
    pagination_class = CursorPage
    ordering = ("-sent_at", "-id")

    def get(self, request):
        data, agency = self.filtered(request)
        page = self.paginate(selectors.handoff_register(agency=agency, filters=_register_filters(data)))
        return self.page_response(self.OutputSerializer(page, many=True).data)


class SupervisionCaseRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    lead_agency = SupervisionAgencyRefSerializer()


class HandoffDurationFiguresSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    average_seconds = serializers.IntegerField(allow_null=True)
    longest_seconds = serializers.IntegerField(allow_null=True)


class HandoffDeclineReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()


class SupervisionIdleCaseSerializer(SupervisionCaseRefSerializer):
    last_activity_at = DateTimeField()


class SupervisionHandedOnCaseSerializer(SupervisionCaseRefSerializer):
    handoff_count = serializers.IntegerField()


@_report(
    "supervision_handoffs_summary", "Handoff register figures",
    "Counts by status and deadline state, mean and longest durations, decline reasons (for the filtered "
    "handoffs), cases handed on more than `more_than` times and cases with no action for `idle_days` (of the "
    "cases your agency sees now).",
    400, 403,
)
class HandoffSummaryApi(SupervisionApiView):
    class FilterSerializer(HandoffRegisterFilterSerializer):
        more_than = serializers.IntegerField(required=False, min_value=0, max_value=100, default=2,
                                             help_text="List cases handed on more than this many times.")
        idle_days = serializers.IntegerField(required=False, min_value=1, max_value=3650, default=14,
                                             help_text="List open cases with no action by the agency for this long.")

    class OutputSerializer(serializers.Serializer):
        total = serializers.IntegerField()
        by_status = serializers.DictField(child=serializers.IntegerField())
        by_deadline = serializers.DictField(child=serializers.IntegerField())
        overdue = serializers.IntegerField()
        to_view = HandoffDurationFiguresSerializer()
        to_answer = HandoffDurationFiguresSerializer()
        to_first_action = HandoffDurationFiguresSerializer()
        to_completion = HandoffDurationFiguresSerializer()
        decline_reasons = HandoffDeclineReasonSerializer(many=True)
        cases_handed_on = SupervisionHandedOnCaseSerializer(many=True)
        cases_without_action = SupervisionIdleCaseSerializer(many=True)

        class Meta:
            ref_name = "HandoffRegisterSummary"

    def get(self, request):
        data, agency = self.filtered(request)
        filters, now = _register_filters(data), timezone.now()
        s = selectors.handoff_register_summary(agency=agency, filters=filters, now=now)

        def seconds(value):
            return None if value is None else int(value.total_seconds())

        body = {
            "total": s["total"],
            "by_status": {v: s[f"status_{v}"] for v in HandoffStatus.values},
            "by_deadline": {v: s[f"deadline_{v}"] for v in DeadlineState.values},
            "overdue": s["overdue"],
            **{name: {"count": s[f"{name}_count"], "average_seconds": seconds(s[f"{name}_avg"]),
                      "longest_seconds": seconds(s[f"{name}_max"])}
               for name in ("to_view", "to_answer", "to_first_action", "to_completion")},
            "decline_reasons": [{"reason": r["decline_reason"], "count": r["count"]}
                                for r in selectors.decline_reasons(agency=agency, filters=filters)],
            "cases_handed_on": selectors.cases_handed_on(agency=agency, more_than=data["more_than"], now=now)[:200],
            "cases_without_action": selectors.cases_without_action(agency=agency, days=data["idle_days"],
                                                                   now=now)[:200],
        }
        return Response(HandoffSummaryApi.OutputSerializer(body).data)


class HandoffMilestoneSerializer(serializers.Serializer):
    at = DateTimeField()
    key = serializers.CharField(help_text="sent, viewed, accepted, declined, first_action, completed, "
                                "withdrawn, review_<verdict>")
    who = serializers.CharField()
    agency = serializers.CharField()
    note = serializers.CharField(
        allow_blank=True, help_text="The decline or withdrawal reason, the first action's kind, a review's comment "
        "(the other agency's only while your agency sees the case).")


class CaseReaderSerializer(serializers.Serializer):
    at = DateTimeField()
    actor = serializers.CharField(source="actor_username")
    agency = serializers.CharField(source="agency_name")
    action = serializers.ChoiceField(choices=AuditAction.choices)
    categories = serializers.ListField(child=serializers.CharField())
    target = serializers.CharField()


@_report("supervision_handoffs_retrieve", "One handoff for review", None, 400, 403, 404)
class HandoffDetailApi(SupervisionApiView):
    class OutputSerializer(serializers.Serializer):
        handoff = HandoffRegisterRowSerializer()
        agency = SupervisionAgencyRefSerializer(help_text="The supervised agency on whose side you read it.")
        milestones = HandoffMilestoneSerializer(many=True)
        readers = CaseReaderSerializer(many=True, help_text="Who read or changed the case, newest first: everyone "
                                   "when your agency leads it, your own staff otherwise.")

        class Meta:
            ref_name = "SupervisionHandoffDetail"

    def get(self, request, handoff_id: int):
        self.supervised(request)
        handoff, agency = selectors.handoff_get_for_supervisor(user=request.user, handoff_id=handoff_id,
                                                               agencies=self.agencies, agency_id=self.agency_id)
        body = {
            "handoff": handoff, "agency": agency,
            "milestones": selectors.handoff_milestones(handoff=handoff, agency=agency),
            "readers": selectors.case_readers(case_id=handoff.case_id, agency=agency,
                                              lead=handoff.case.lead_agency_id == agency.pk),
        }
        return Response(HandoffDetailApi.OutputSerializer(body).data)


# --- Reviews -------------------------------------------------------------------------------------


@_action(
    "supervision_reviews_create", "Review a handoff, consent override or break-glass use",
    "Appends a review (audited). A concern needs a comment; a follow-up needs a due time and creates a follow-up "
    "deadline for the agency. A later review supersedes the earlier one's follow-up.",
    400, 403, 404,
)
class ReviewCreateApi(SupervisionApiView):
    success_status = status.HTTP_201_CREATED

    class InputSerializer(ReviewInputSerializer):
        subject = serializers.ChoiceField(choices=["handoff", "consent_override", "break_glass"])
        id = serializers.IntegerField(min_value=1, help_text="The handoff, consent or break-glass use.")
        agency = serializers.IntegerField(required=False, min_value=1,
                                          help_text="Which of your agencies signs, when you supervise both sides.")

        class Meta:
            ref_name = "SupervisionReviewInput"

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        subject = serializers.CharField()
        subject_id = serializers.IntegerField()
        agency = SupervisionAgencyRefSerializer()
        verdict = serializers.ChoiceField(choices=Verdict.choices)
        comment = serializers.CharField(allow_blank=True)
        follow_up_due = DateTimeField(allow_null=True)
        follow_up_deadline_id = serializers.IntegerField(source="follow_up_id", allow_null=True)
        at = DateTimeField()

        class Meta:
            ref_name = "SupervisionReview"

    def post(self, request):
        data = self.validated_input(self.InputSerializer)
        self.supervised(request, data.get("agency"))
        review = review_create(
            user=request.user, subject=data["subject"], subject_id=data["id"], agency_id=data.get("agency"),
            verdict=data["verdict"], comment=data["comment"], follow_up_due=data["follow_up_due"],
        )
        subject_id = {"handoff": "handoff_id", "consent_override": "consent_id", "break_glass": "use_id"}
        review.subject, review.subject_id = data["subject"], getattr(review, subject_id[data["subject"]])
        return Response(self.OutputSerializer(review).data, status=self.success_status)


class CaseRiskRowSerializer(serializers.Serializer):
    """A case of the agency with the level of its latest assessment (the dashboard's and the queue's
    risk follow-up rows)."""

    case_id = serializers.IntegerField(source="pk")
    case_number = serializers.CharField(source="number")
    latest_level = serializers.ChoiceField(choices=RiskLevel.choices)


class QueueConsentOverrideSerializer(cases_serializers.CaseRecordSerializer):
    recorded_at = DateTimeField()
    recorded_by = serializers.CharField(source="recorded_by.username")
    recorded_by_agency = serializers.CharField(source="recorded_by_agency.name")
    receiving = serializers.SerializerMethodField()
    granted_categories = serializers.ListField(child=serializers.ChoiceField(choices=DataCategory.choices))
    override_reason = serializers.CharField()

    def get_receiving(self, consent) -> str:
        return consent.receiving_agency.name if consent.receiving_agency_id else consent.receiving_sector


class QueueBreakGlassUseSerializer(cases_serializers.CaseRecordSerializer):
    user = serializers.CharField(source="user.username")
    lead_agency = SupervisionAgencyRefSerializer()
    reason = serializers.CharField()
    categories = serializers.ListField(child=serializers.ChoiceField(choices=DataCategory.choices))
    started_at = DateTimeField()
    ends_at = DateTimeField()


class QueueRiskLoweredSerializer(CaseRiskRowSerializer):
    latest_at = DateTimeField()


class QueueMeetingWithoutMinutesSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    held_on = serializers.DateField()
    chair = serializers.CharField(source="chair.username")
    place = serializers.CharField()


@_report(
    "supervision_reviews_queue", "Review queue",
    "What the agency has not signed off: handoffs (emergency overrides first; those still waiting within their "
    "deadline are left out), emergency consent overrides on its cases, break-glass uses on its cases or by its "
    "staff. Each section lists its first 50 and counts all.",
    400, 403,
)
class ReviewQueueApi(SupervisionApiView):
    class OutputSerializer(serializers.Serializer):
        handoffs = HandoffRegisterRowSerializer(many=True)
        handoff_count = serializers.IntegerField()
        consent_overrides = QueueConsentOverrideSerializer(many=True)
        consent_override_count = serializers.IntegerField()
        break_glass = QueueBreakGlassUseSerializer(many=True)
        break_glass_count = serializers.IntegerField()
        risk_lowered = QueueRiskLoweredSerializer(many=True, help_text="Open cases the agency leads whose latest "
                                             "assessment's level is lower than an earlier one's.")
        risk_lowered_count = serializers.IntegerField()
        meetings_without_minutes = QueueMeetingWithoutMinutesSerializer(
            many=True, help_text="Meetings the agency coordinated, held, with no signed minutes.")
        meetings_without_minutes_count = serializers.IntegerField()

        class Meta:
            ref_name = "ReviewQueue"

    def get(self, request):
        agency = self.supervised(request)
        queue = review_queue(agency=agency)
        register = selectors.handoff_register(agency=agency)
        rows = {h.pk: h for h in register.filter(pk__in=[h.pk for h in queue.handoffs])}
        body = {**queue.__dict__, "handoffs": [rows[h.pk] for h in queue.handoffs]}
        return Response(ReviewQueueApi.OutputSerializer(body).data)


# --- Access review -------------------------------------------------------------------------------------


class AccessLogFilterSerializer(SupervisionAgencyFilterSerializer):
    case = serializers.CharField(required=False, max_length=20, help_text="Case number of a case your agency leads.")
    actor = serializers.CharField(required=False, max_length=150, help_text="User name.")
    action = serializers.ChoiceField(choices=AuditAction.choices, required=False)
    category = serializers.ChoiceField(choices=DataCategory.choices, required=False)
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)


def _access_form(request, agency: Agency) -> AccessLogFilterForm:
    """The page's form checks the filters (the case number must be one of the agency's cases)."""
    _validated(AccessLogFilterSerializer, request)
    form = AccessLogFilterForm({k: v for k, v in request.query_params.items() if k != "agency"}, agency=agency)
    if not form.is_valid():
        raise DjangoValidationError({key: list(messages) for key, messages in form.errors.items()})
    return form


class AccessLogEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    at = DateTimeField()
    case_id = serializers.IntegerField()
    case_number = serializers.CharField()
    actor = serializers.CharField(source="actor_username")
    agency = serializers.CharField(source="agency_name", allow_null=True)
    action = serializers.ChoiceField(choices=AuditAction.choices)
    categories = serializers.ListField(child=serializers.CharField())
    target = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    ip = serializers.CharField(allow_null=True)


@_report(
    "supervision_access_list", "Access review",
    "Who read or changed which categories of the agency's cases, and when, newest first.", 400, 403,
)
class AccessLogApi(SupervisionApiView):
    FilterSerializer = AccessLogFilterSerializer
    OutputSerializer = AccessLogEventSerializer
    pagination_class = CursorPage
    ordering = ("-seq",)
    page_size = 100
    max_page_size = 500

    def get(self, request):
        agency = self.supervised(request)
        form = _access_form(request, agency)
        page = self.paginate(access_review.access_log(agency=agency, filters=form.filters()))
        return self.page_response(self.OutputSerializer(page, many=True).data)


class AccessLogExportApi(SupervisionApiView):
    @extend_schema(
        operation_id="supervision_access_export", summary="Access review as CSV",
        description="The filtered access log as CSV. The export is itself audited (action export). Cells that a "
        "spreadsheet would read as a formula (starting with = + - @ tab or CR) get a leading apostrophe.",
        parameters=[AccessLogFilterSerializer],
        responses=responses((200, "text/csv"), OpenApiTypes.STR, 400, 403, **REFUSALS), tags=TAGS,
    )
    def get(self, request):
        from .views import access_log_csv_response

        agency = self.supervised(request)
        return access_log_csv_response(request, agency=agency, form=_access_form(request, agency))


class UnusualReaderSerializer(serializers.Serializer):
    actor = serializers.CharField(source="actor_username")
    cases = serializers.IntegerField()
    reads = serializers.IntegerField()
    last = DateTimeField()


class OffHoursReadSerializer(serializers.Serializer):
    seq = serializers.IntegerField(help_text="The audit event's number, to cite in a breach record.")
    breaches = serializers.ListField(source="breach_ids", child=serializers.IntegerField(),
                                     help_text="Ids of recorded breaches that cite this read.")
    at = DateTimeField()
    actor = serializers.CharField(source="actor_username")
    case_id = serializers.IntegerField()
    case_number = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())


class UnusualBreakGlassSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case_number = serializers.CharField(source="case.number")
    user = serializers.CharField(source="user.username")
    started_at = DateTimeField()
    ends_at = DateTimeField()
    categories = serializers.ListField(child=serializers.CharField())
    reason = serializers.CharField()


class UnusualAccessBreachSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    discovered_at = DateTimeField()
    due_at = DateTimeField()
    access_events = serializers.ListField(source="access_event_seqs", child=serializers.IntegerField())


@_report(
    "supervision_unusual_access", "Unusual access to the agency's cases",
    "Users reading many cases they never acted on, reads outside 07:00–18:00 Monday–Friday (Viet Nam; public "
    "holidays count as outside), and break-glass uses.",
    400, 403,
)
class UnusualAccessApi(SupervisionApiView):
    class FilterSerializer(PeriodFilterSerializer):
        since = serializers.DateField(required=False, help_text="Default: 29 days before `until`.")
        until = serializers.DateField(required=False, help_text="Default: today (Viet Nam).")
        min_cases = serializers.IntegerField(required=False, min_value=1, max_value=10000, default=10)

    class OutputSerializer(serializers.Serializer):
        since = DateTimeField()
        until = DateTimeField()
        min_cases = serializers.IntegerField()
        heavy_readers = UnusualReaderSerializer(many=True,
                                                help_text="Read at least `min_cases` cases they never acted on.")
        off_hours_readers = UnusualReaderSerializer(many=True)
        off_hours_reads = OffHoursReadSerializer(many=True, help_text="The latest 100.")
        break_glass = UnusualBreakGlassSerializer(many=True)
        breaches = UnusualAccessBreachSerializer(many=True, help_text="Personal-data breaches recorded for the agency "
                                                 "(GET /api/breaches/<id>/ for the record).")

        class Meta:
            ref_name = "UnusualAccessReport"

    def get(self, request):
        data, agency = self.filtered(request)
        report = access_review.unusual_access_report(agency=agency, since=data.get("since"), until=data.get("until"),
                                                     min_cases=data["min_cases"])
        return Response(UnusualAccessApi.OutputSerializer(report).data)


# --- Dashboard ---------------------------------------------------------------------------------------


class ComplianceWeekSerializer(serializers.Serializer):
    iso_year = serializers.IntegerField()
    week = serializers.IntegerField()
    monday = serializers.DateField()
    met = serializers.IntegerField()
    missed = serializers.IntegerField()
    open = serializers.IntegerField()


class AgencyComplianceSerializer(serializers.Serializer):
    agency_id = serializers.IntegerField()
    agency_name = serializers.CharField()
    met = serializers.IntegerField()
    missed = serializers.IntegerField()
    open = serializers.IntegerField()
    weeks = ComplianceWeekSerializer(many=True)


class OverdueDeadlineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    case_number = serializers.CharField()
    link = serializers.CharField()
    owner_agency = SupervisionAgencyRefSerializer()
    due_at = DateTimeField()
    stage = serializers.CharField()


class HighRiskWithoutMeetingSerializer(CaseRiskRowSerializer):
    high_since = DateTimeField()


class PlanItemsOverdueByAgencySerializer(serializers.Serializer):
    agency_id = serializers.IntegerField()
    agency_name = serializers.CharField()
    overdue = serializers.IntegerField()


@_report(
    "supervision_dashboard", "Deadline compliance, overdue deadlines, pending reviews",
    "Deadlines owned by the agency and by the agencies it handed cases to, met / missed / open per owner agency "
    "and ISO week of the due time (Viet Nam).",
    400, 403,
)
class DashboardApi(SupervisionApiView):
    class FilterSerializer(SupervisionAgencyFilterSerializer):
        weeks = serializers.IntegerField(required=False, min_value=1, max_value=MAX_WEEKS, default=12)

        class Meta:
            ref_name = "SupervisionDashboardFilter"

    class OutputSerializer(serializers.Serializer):
        compliance = AgencyComplianceSerializer(many=True)
        overdue = OverdueDeadlineSerializer(many=True, help_text="The 50 longest overdue.")
        overdue_count = serializers.IntegerField()
        pending_reviews = serializers.DictField(child=serializers.IntegerField())
        high_risk_without_meeting = HighRiskWithoutMeetingSerializer(
            many=True, help_text="Open high-risk cases the agency leads with no case meeting held within "
            "meeting_within_days of their becoming high risk; the 50 longest waiting.")
        high_risk_without_meeting_count = serializers.IntegerField()
        meeting_within_days = serializers.IntegerField()
        plan_items_overdue = PlanItemsOverdueByAgencySerializer(
            many=True, help_text="Open action plan items past due, by owner agency: the agency's own and those "
            "of the meetings it coordinated.")

        class Meta:
            ref_name = "SupervisionDashboard"

    def get(self, request):
        data, agency = self.filtered(request)
        return Response(DashboardApi.OutputSerializer(dashboard(agency=agency, weeks=data["weeks"])).data)


# --- Break-glass ---------------------------------------------------------------------------------------


@_action(
    "break_glass_open", "Break-glass: open a case not shared with you",
    "Needs the permission permissions.break_glass; never for analysts. Refused (400) for a case you can already "
    "open. Grants view access and the chosen categories for BREAK_GLASS_HOURS (4 by default), then ends by itself. "
    "Audited; the supervisors of the case's lead agency and of your agencies are told at once.",
    400, 403,
)
class BreakGlassOpenApi(ApiView):
    InputSerializer = BreakGlassInputSerializer
    success_status = status.HTTP_201_CREATED

    class OutputSerializer(cases_serializers.CaseRecordSerializer):
        categories = serializers.ListField(child=serializers.ChoiceField(choices=DataCategory.choices))
        started_at = DateTimeField()
        ends_at = DateTimeField()

        class Meta:
            ref_name = "BreakGlassUse"

    def post(self, request):
        data = self.validated_input(self.InputSerializer)
        use = break_glass_open(user=request.user, **data)
        return Response(self.OutputSerializer(use).data, status=self.success_status)
