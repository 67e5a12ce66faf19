"""The privacy API: data-subject requests, their access packages, legal holds. Access rules are the
services' (privacy.services): 404 for someone outside the case's lead agency, 403 for a lead
responder where a supervisor is needed."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from cases.selectors import case_get_for_user
from cases.serializers import CaseAgencyRefSerializer, CaseRecordSerializer, CaseUserRefSerializer
from config.api import ApiView, DateTimeField, StrictInputSerializer, responses
from permissions.categories import CaseRight

from . import selectors, services
from .models import REQUEST_MACHINE, RefusalGround, Requester, RequestKind, RequestStatus
from .serializers import ReasonInputSerializer, RequestDecisionInputSerializer, RequestRecordInputSerializer


class PrivacyDeadlineSerializer(serializers.Serializer):
    code = serializers.CharField(source="rule.code")
    due_at = DateTimeField()
    closed_at = DateTimeField(allow_null=True)


class DataSubjectRequestSummarySerializer(CaseRecordSerializer):
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    requester = serializers.ChoiceField(choices=Requester.choices)
    status = serializers.ChoiceField(choices=RequestStatus.choices)
    received_at = DateTimeField()
    completed_at = DateTimeField(allow_null=True)


class DataSubjectRequestSerializer(DataSubjectRequestSummarySerializer):
    details = serializers.CharField()
    recorded_by = CaseUserRefSerializer()
    recorded_by_agency = CaseAgencyRefSerializer()
    acknowledged_at = DateTimeField(allow_null=True)
    decided_at = DateTimeField(allow_null=True)
    decided_by = CaseUserRefSerializer(allow_null=True)
    refusal_ground = serializers.CharField(help_text="One of " + ", ".join(RefusalGround.values) + ", or empty.")
    outcome = serializers.CharField()
    package_status = serializers.SerializerMethodField()
    deadlines = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField(
        help_text="What you may do with it now, as the request page offers it: "
        + ", ".join(REQUEST_MACHINE.actions) + ".")

    def get_allowed_actions(self, dsr) -> list[str]:
        return selectors.privacy_request_actions(user=self.context["request"].user, dsr=dsr)

    def get_package_status(self, dsr) -> str | None:
        package = getattr(dsr, "package", None)
        return package.status if package is not None else None

    @extend_schema_field(PrivacyDeadlineSerializer(many=True))
    def get_deadlines(self, dsr) -> list:
        return PrivacyDeadlineSerializer(selectors.request_deadlines(dsr), many=True).data


class PrivacyApiView(ApiView):
    pass


class RequestListApi(PrivacyApiView):
    @extend_schema(operation_id="privacy_requests_list", summary="Data-subject requests of your agency's cases",
                   description="Requests about cases your agency leads; newest first.",
                   responses=responses(200, DataSubjectRequestSummarySerializer(many=True), 403), tags=["privacy"])
    def get(self, request):
        rows = selectors.privacy_requests_visible_to(user=request.user)[:200]
        return Response(DataSubjectRequestSummarySerializer(rows, many=True).data)


class CaseRequestListApi(PrivacyApiView):
    @extend_schema(operation_id="privacy_case_requests_list", summary="Data-subject requests of a case",
                   responses=responses(200, DataSubjectRequestSummarySerializer(many=True), 403, 404), tags=["privacy"])
    def get(self, request, case_id: int):
        access = case_get_for_user(user=request.user, case_id=case_id)
        selectors.lead_member_require(user=request.user, case=access.case)
        rows = selectors.privacy_requests_visible_to(user=request.user).filter(case=access.case)
        return Response(DataSubjectRequestSummarySerializer(rows, many=True).data)


class CaseRequestRecordApi(PrivacyApiView):
    InputSerializer = RequestRecordInputSerializer

    @extend_schema(operation_id="privacy_case_requests_record", summary="Record a data-subject request",
                   description="A responder or supervisor of the lead agency. Starts the legal deadlines "
                   "(acknowledge in 2 working days, complete in 15 days) and tells the lead's supervisors.",
                   request=InputSerializer, responses=responses(201, DataSubjectRequestSerializer, 400, 403, 404),
                   tags=["privacy"])
    def post(self, request, case_id: int):
        access = case_get_for_user(user=request.user, case_id=case_id, require=CaseRight.LOG_ACTION)
        payload = self.validated_input(CaseRequestRecordApi.InputSerializer)
        dsr = services.privacy_request_record(access=access, actor=request.user, data=payload)
        dsr = selectors.privacy_request_get(user=request.user, request_id=dsr.pk)
        return Response(DataSubjectRequestSerializer(dsr, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


class RequestDetailApi(PrivacyApiView):
    @extend_schema(operation_id="privacy_requests_detail", summary="One data-subject request",
                   responses=responses(200, DataSubjectRequestSerializer, 403, 404), tags=["privacy"])
    def get(self, request, request_id: int):
        dsr = selectors.privacy_request_get(user=request.user, request_id=request_id)
        return Response(DataSubjectRequestSerializer(dsr, context={"request": request}).data)


class RequestAcknowledgeApi(PrivacyApiView):
    class InputSerializer(StrictInputSerializer):
        class Meta:
            ref_name = "DataSubjectRequestAcknowledgeInput"

    @extend_schema(operation_id="privacy_requests_acknowledge", summary="Acknowledge a request",
                   description="The lead agency's supervisors. Closes the 2-working-day deadline.",
                   request=InputSerializer, responses=responses(200, DataSubjectRequestSerializer, 400, 403, 404, 409),
                   tags=["privacy"])
    def post(self, request, request_id: int):
        self.validated_input(RequestAcknowledgeApi.InputSerializer)
        dsr = services.privacy_request_acknowledge(user=request.user, request_id=request_id)
        return Response(DataSubjectRequestSerializer(dsr, context={"request": request}).data)


class RequestDecideApi(PrivacyApiView):
    InputSerializer = RequestDecisionInputSerializer

    @extend_schema(operation_id="privacy_requests_decide", summary="Decide a request",
                   description="The lead agency's supervisors. Access: a worker builds the package. Erasure: the "
                   "case is anonymised unless a legal hold or an open investigation keeps it (then refused with "
                   "that ground). Withdrawal of consent: the consents named in `consent_ids` are withdrawn at "
                   "once, as on the case page, and the outcome names them.", request=InputSerializer,
                   responses=responses(200, DataSubjectRequestSerializer, 400, 403, 404, 409), tags=["privacy"])
    def post(self, request, request_id: int):
        payload = self.validated_input(RequestDecideApi.InputSerializer)
        services.privacy_request_decide(user=request.user, request_id=request_id, data=payload)
        dsr = selectors.privacy_request_get(user=request.user, request_id=request_id)
        return Response(DataSubjectRequestSerializer(dsr, context={"request": request}).data)


class PackageDownloadApi(PrivacyApiView):
    @extend_schema(operation_id="privacy_requests_package", summary="Download the access package (once)",
                   description="A zip of du-lieu-ca-nhan.json and du-lieu-ca-nhan.pdf. The lead agency's "
                   "supervisors, once: the package is destroyed as it is handed over; 410 afterwards.",
                   responses=responses((200, "application/zip"), OpenApiTypes.BINARY, 410,
                                       d410="The package is not ready, or was downloaded already."),
                   tags=["privacy"])
    def get(self, request, request_id: int):
        try:
            content, filename = services.access_package_download(user=request.user, request_id=request_id)
        except services.PackageGone:
            return Response({"detail": "The package is not ready, or was downloaded already."},
                            status=status.HTTP_410_GONE)
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class LegalHoldSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    reason = serializers.CharField()
    placed_by = CaseUserRefSerializer()
    placed_at = DateTimeField()
    released_at = DateTimeField(allow_null=True)
    release_reason = serializers.CharField()


class CaseHoldListApi(PrivacyApiView):
    @extend_schema(operation_id="privacy_case_holds_list", summary="Legal holds of a case",
                   responses=responses(200, LegalHoldSerializer(many=True), 403, 404), tags=["privacy"])
    def get(self, request, case_id: int):
        access = case_get_for_user(user=request.user, case_id=case_id)
        holds = selectors.legal_holds_of_case(user=request.user, case=access.case)
        return Response(LegalHoldSerializer(holds, many=True).data)


class CaseHoldPlaceApi(PrivacyApiView):
    @extend_schema(operation_id="privacy_case_holds_place", summary="Place a legal hold",
                   description="The lead agency's supervisors. Suspends retention and refuses erasure until released.",
                   request=ReasonInputSerializer, responses=responses(201, LegalHoldSerializer, 400, 403, 404),
                   tags=["privacy"])
    def post(self, request, case_id: int):
        access = case_get_for_user(user=request.user, case_id=case_id)
        payload = self.validated_input(ReasonInputSerializer)
        hold = services.legal_hold_place(user=request.user, case=access.case, data=payload)
        return Response(LegalHoldSerializer(hold).data, status=status.HTTP_201_CREATED)


class HoldReleaseApi(PrivacyApiView):
    @extend_schema(operation_id="privacy_holds_release", summary="Release a legal hold",
                   request=ReasonInputSerializer, responses=responses(200, LegalHoldSerializer, 400, 403, 404),
                   tags=["privacy"])
    def post(self, request, hold_id: int):
        payload = self.validated_input(ReasonInputSerializer)
        hold = services.legal_hold_release(user=request.user, hold_id=hold_id, data=payload)
        return Response(LegalHoldSerializer(hold).data)


class CaseRequestCollectionApi(CaseRequestListApi, CaseRequestRecordApi):
    """GET lists a case's requests, POST records one."""


class CaseHoldCollectionApi(CaseHoldListApi, CaseHoldPlaceApi):
    """GET lists a case's legal holds, POST places one."""
