"""The case API: one APIView per operation, each with its own input and output serializers.

Views are thin. Access is decided by `cases.selectors.case_get_for_user` (directly, or through the
audited `case_view`), writes by the services in `cases.services`. Errors keep one shape for the
client: a 400 body maps dotted field paths ("survivor.birth_year") to lists of messages, whether a
message came from an input serializer here or from a service.
"""

import functools
from collections.abc import Mapping

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from agencies.acting import (
    ACTING_AGENCY_HEADER,
    ActingAgencyRequired,
    acting_agency_parse,
    acting_agency_pick,
    acting_agency_validate,
    case_membership_agencies,
)
from agencies.models import Agency, Sector
from config.errors import api_exception_handler
from config.parsers import BoundedJSONParser
from permissions.categories import ACTION_CATEGORY_CHOICES, DataCategory

from .classification import GBVIMS_QUESTIONS
from .inputs import TEXT_LIMITS
from .models import (
    ActionType,
    CaseStatus,
    ConsentGiver,
    Disability,
    PerpetratorRelationship,
    RiskLevel,
    Sex,
    TechForm,
)
from .selectors import (
    action_list_visible,
    case_filter_list,
    case_get_for_user,
    case_list_visible_to,
    case_prefetch_for_detail,
    consent_list_for_case,
)
from .serializers import (
    ActionSerializer,
    CaseDetailSerializer,
    CaseSummarySerializer,
    ConsentSerializer,
    IncidentSerializer,
    UserRefSerializer,
)
from .services import (
    action_log,
    case_change_status,
    case_list_audit,
    case_open,
    case_timeline,
    case_update,
    case_view,
    consent_record,
    consent_withdraw,
    incident_record,
)
from .transitions import TransitionNotAllowed

# --- Errors --------------------------------------------------------------------------------------


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF nests errors of nested serializers; the services use dotted keys. Dotted it is."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            for path, messages in _flatten(value, f"{prefix}{key}.").items():
                flat.setdefault(path, []).extend(messages)
        return flat
    key = prefix[:-1] or api_settings.NON_FIELD_ERRORS_KEY
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return {key: [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            for path, messages in _flatten(item, f"{prefix}{index}.").items():
                flat.setdefault(path, []).extend(messages)
        return flat
    return {key: [str(detail)]}


def case_api_exception_handler(exc, context):
    """DRF's handler, plus a 400 for Django's ValidationError (what the services raise on bad
    input), and a 409 for TransitionNotAllowed (the object's state does not allow the action).
    Http404, PermissionDenied and the domain NotFound are mapped by the project's handler."""
    conflict = isinstance(exc, TransitionNotAllowed)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
        exc = ValidationError(detail)
    if isinstance(exc, ValidationError):
        exc = ValidationError(_flatten(exc.detail))
    response = api_exception_handler(exc, context)
    if conflict and response is not None:
        response.status_code = status.HTTP_409_CONFLICT
    return response


# A map from dotted field path to messages; the paths depend on the input, hence no fixed properties.
_errors_body = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "example": {"survivor.birth_year": ["Enter a whole number."], "incident.answers.penetration": ["Yes or no."]},
}
_refusals = {
    400: OpenApiResponse(_errors_body, description="Bad input: messages by dotted field path."),
    403: OpenApiResponse(description="Not signed in, or the case is visible but this right is not held."),
    404: OpenApiResponse(description="No such case, or a case that is not shared with you (the two look alike)."),
    409: OpenApiResponse(_errors_body, description="Its state does not allow this now (cases.transitions)."),
}


def _responses(ok_status: int, ok_body, *refusals: int) -> dict:
    return {ok_status: ok_body, **{code: _refusals[code] for code in refusals}}


class CaseApiView(APIView):
    """Base of the case API views: JSON only, service errors become 400s. A person of several
    agencies names the one they act for in the `X-Acting-Agency` header (agencies.acting); a
    header that is not one of their agencies is refused here, before anything is read."""

    # Bounded in depth and size like every JSON body of the API (config.parsers).
    parser_classes = [BoundedJSONParser]
    # Documented on every operation by config.schema.
    acting_agency_header = True

    def get_exception_handler(self):
        return case_api_exception_handler

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        header = request.headers.get(ACTING_AGENCY_HEADER)
        if header is not None:
            acting_agency_validate(user=request.user, agency_id=acting_agency_parse(header))


def shared_path(name: str, doc: str, **operations: type[APIView]) -> type[APIView]:
    """A view for operations that share one URL (GET and POST on /api/cases/). Each HTTP method is
    served by its own operation view, which keeps its serializers and schema; this class only routes."""

    def route(view_class: type[APIView], method: str):
        handler = getattr(view_class, method)

        @functools.wraps(handler)  # carries the operation's @extend_schema
        def routed(self, request, *args, **kwargs):
            view = view_class()
            view.request, view.args, view.kwargs = request, args, kwargs
            view.format_kwarg, view.headers = self.format_kwarg, self.headers
            return handler(view, request, *args, **kwargs)

        return routed

    attrs = {method: route(view_class, method) for method, view_class in operations.items()}
    return type(name, (CaseApiView,), {"__doc__": doc, "__module__": __name__, **attrs})


# --- Shared input pieces -------------------------------------------------------------------------


class StrictInputSerializer(serializers.Serializer):
    """Unknown keys are refused, not dropped, as the services refuse them: a client that expects
    a field to change is told that it cannot."""

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields), key=str) if isinstance(data, Mapping) else []
        unknown_errors = {str(key): [_("Unknown field.")] for key in unknown}
        try:
            value = super().to_internal_value(data)
        except ValidationError as exc:
            if isinstance(exc.detail, dict):
                exc.detail.update(unknown_errors)
            raise
        if unknown_errors:
            raise ValidationError(unknown_errors)
        return value


class TextField(serializers.CharField):
    """Text only: DRF's CharField would turn 5 into "5"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _text(field: str, **kwargs) -> TextField:
    return TextField(max_length=TEXT_LIMITS[field], allow_blank=True, required=False, **kwargs)


GbvimsAnswersSerializer = type(
    "GbvimsAnswersSerializer",
    (StrictInputSerializer,),
    {
        "__doc__": "The GBVIMS questions in order; the first yes decides the type. Questions after the first "
        "yes may be left out.",
        "Meta": type("Meta", (), {"ref_name": "GbvimsAnswers"}),
        **{q.key: serializers.BooleanField(required=False, help_text=q.text) for q in GBVIMS_QUESTIONS},
    },
)


class IncidentInputSerializer(StrictInputSerializer):
    occurred_on = serializers.DateField(required=False, allow_null=True)
    reported_on = serializers.DateField(required=False, help_text="Defaults to today.")
    province = TextField(max_length=8, help_text="Province code, e.g. 01 for Hà Nội.")
    commune = TextField(max_length=10, required=False, allow_blank=True, help_text="Commune code.")
    answers = GbvimsAnswersSerializer()
    tech_forms = serializers.ListField(child=serializers.ChoiceField(choices=TechForm.choices), required=False,
                                       max_length=len(TechForm.values))
    perpetrator_relationship = serializers.ChoiceField(choices=PerpetratorRelationship.choices, required=False)

    class Meta:
        ref_name = "IncidentInput"


class ConsentInputSerializer(StrictInputSerializer):
    receiving_agency = serializers.IntegerField(required=False, allow_null=True, help_text="Agency id.")
    receiving_sector = serializers.ChoiceField(choices=Sector.choices, required=False, allow_blank=True)
    granted_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=DataCategory.choices), required=False, max_length=len(DataCategory)
    )
    refused_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=DataCategory.choices), required=False, max_length=len(DataCategory)
    )
    purpose = TextField(max_length=TEXT_LIMITS["purpose"])
    given_by = serializers.ChoiceField(choices=ConsentGiver.choices)
    guardian_relationship = _text("guardian_relationship")
    emergency_override = serializers.BooleanField(required=False, default=False)
    override_reason = _text("override_reason")
    expires_at = serializers.DateTimeField(required=False, allow_null=True)

    class Meta:
        ref_name = "ConsentInput"


def _access_context(access) -> dict:
    return {"access": access}


# --- Cases ---------------------------------------------------------------------------------------


class CaseCursorPagination(CursorPagination):
    ordering = ("-updated_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class CaseListApi(CaseApiView):
    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=CaseStatus.choices, required=False)
        risk_level = serializers.ChoiceField(choices=RiskLevel.choices, required=False)
        province = serializers.CharField(max_length=8, required=False, help_text="Province code.")
        updated_since = serializers.DateTimeField(required=False, help_text="ISO 8601 date and time.")
        number = serializers.CharField(max_length=20, required=False, help_text="Exact case number.")

        class Meta:
            ref_name = "CaseListFilter"

    class PageSerializer(serializers.Serializer):
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        results = CaseSummarySerializer(many=True)

        class Meta:
            ref_name = "CaseListPage"

    @extend_schema(
        operation_id="cases_list",
        summary="Cases shared with you",
        description="Most recently updated first, cursor-paginated. Every page read is audited (one event "
        "naming the cases on the page). Analysts and agency admins see no cases.",
        parameters=[
            FilterSerializer,
            OpenApiParameter("cursor", OpenApiTypes.STR, description="From `next` or `previous`."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="At most 200; default 50."),
        ],
        responses=_responses(200, PageSerializer, 400, 403),
        tags=["cases"],
    )
    def get(self, request):
        filters = CaseListApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        criteria = dict(filters.validated_data)
        if "province" in criteria:
            criteria["province_code"] = criteria.pop("province")
        cases = case_filter_list(case_list_visible_to(user=request.user), **criteria)
        paginator = CaseCursorPagination()
        page = paginator.paginate_queryset(cases, request, view=self)
        case_list_audit(user=request.user, case_ids=[case.pk for case in page])
        return paginator.get_paginated_response(CaseSummarySerializer(page, many=True).data)


class CaseOpenApi(CaseApiView):
    class InputSerializer(StrictInputSerializer):
        class SurvivorInputSerializer(StrictInputSerializer):
            full_name = _text("full_name")
            phone = TextField(max_length=30, allow_blank=True, required=False)
            address = _text("address")
            guardian_name = _text("guardian_name")
            guardian_phone = TextField(max_length=30, allow_blank=True, required=False)
            sex = serializers.ChoiceField(choices=Sex.choices, required=False)
            birth_year = serializers.IntegerField(required=False, allow_null=True)
            age = serializers.IntegerField(required=False, allow_null=True,
                                           help_text="Instead of the birth year, when only the age is known.")
            birth_year_estimated = serializers.BooleanField(required=False)
            disability = serializers.ChoiceField(choices=Disability.choices, required=False)
            ethnicity = _text("ethnicity")

            class Meta:
                ref_name = "SurvivorInput"

        agency = serializers.IntegerField(
            required=False, help_text="The agency opening (and leading) the case; may be left out by someone "
            "who is a responder or supervisor of exactly one agency.",
        )
        risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
        statistics_consent = serializers.BooleanField(required=False, default=True)
        survivor = SurvivorInputSerializer()
        incident = IncidentInputSerializer()
        consent = ConsentInputSerializer(required=False, allow_null=True)

        class Meta:
            ref_name = "CaseOpenInput"

    @extend_schema(
        operation_id="cases_open",
        summary="Open a case",
        description="The survivor, the first incident (classified by the GBVIMS answers) and optionally the "
        "survivor's first consent, in one transaction. Your agency leads the case and you are responsible.",
        request=InputSerializer,
        responses=_responses(201, CaseDetailSerializer, 400, 403),
        tags=["cases"],
    )
    def post(self, request):
        payload = CaseOpenApi.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        case = case_open(
            actor=request.user,
            agency=_opening_agency(user=request.user, agency_id=data.pop("agency", None)),
            survivor=dict(data["survivor"]),
            incident=_incident_dict(data["incident"]),
            consent=dict(data["consent"]) if data.get("consent") else None,
            risk_level=data["risk_level"],
            statistics_consent=data["statistics_consent"],
        )
        # The opener has just entered all of it; the create event in the audit trail covers this echo.
        access = case_get_for_user(user=request.user, case_id=case.pk)
        case_prefetch_for_detail(access.case)
        return Response(CaseDetailSerializer(access.case, context=_access_context(access)).data,
                        status=status.HTTP_201_CREATED)


def _opening_agency(*, user, agency_id: int | None) -> Agency:
    """Which agency opens the case. Whether the user may open cases for it is case_open's decision."""
    if agency_id is not None:
        agency = Agency.objects.filter(pk=agency_id).first()
        if agency is None:
            raise DjangoValidationError({"agency": [_("Unknown agency.")]})
        return agency
    agencies = list(case_membership_agencies(user=user))
    if not agencies:
        raise PermissionDenied
    acting_id = acting_agency_pick(member_agency_ids=[agency.pk for agency in agencies])
    if acting_id is None:
        raise ActingAgencyRequired
    return next(agency for agency in agencies if agency.pk == acting_id)


def _incident_dict(data) -> dict:
    incident = dict(data)
    incident["answers"] = dict(incident["answers"])
    return incident


class CaseDetailApi(CaseApiView):
    @extend_schema(
        operation_id="cases_retrieve",
        summary="One case",
        description="Survivor identity and contact fields are present only when you hold those categories "
        "(absent, not null, otherwise). Every read is audited.",
        responses=_responses(200, CaseDetailSerializer, 403, 404),
        tags=["cases"],
    )
    def get(self, request, case_id: int):
        access = case_view(user=request.user, case_id=case_id)
        case_prefetch_for_detail(access.case)
        return Response(CaseDetailSerializer(access.case, context=_access_context(access)).data)


class CaseUpdateApi(CaseApiView):
    class InputSerializer(StrictInputSerializer):
        risk_level = serializers.ChoiceField(choices=RiskLevel.choices, required=False)
        responsible = serializers.IntegerField(required=False, help_text="User id of a responder or supervisor "
                                               "of the lead agency.")
        statistics_consent = serializers.BooleanField(required=False)
        status = serializers.ChoiceField(choices=CaseStatus.choices, required=False,
                                         help_text="A move along the case's allowed transitions.")
        close_reason = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                             help_text="Why the case is closed: required with status \"closed\", "
                                             "refused otherwise.")

        class Meta:
            ref_name = "CaseUpdateInput"

        def validate(self, attrs):
            if not attrs:
                raise serializers.ValidationError(gettext_lazy("Nothing to change."))
            if "close_reason" in attrs and attrs.get("status") != CaseStatus.CLOSED:
                raise serializers.ValidationError(
                    {"close_reason": [gettext_lazy("A reason is given only when closing the case.")]})
            return attrs

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        number = serializers.CharField()
        status = serializers.ChoiceField(choices=CaseStatus.choices)
        risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
        responsible = UserRefSerializer(allow_null=True)
        statistics_consent = serializers.BooleanField()
        updated_at = serializers.DateTimeField()
        closed_at = serializers.DateTimeField(allow_null=True)

        class Meta:
            ref_name = "CaseUpdateOutput"

    @extend_schema(
        operation_id="cases_update",
        summary="Change a case",
        description="Risk level, responsible person, statistics consent (needs change_case) and status "
        "(closing and reopening need close_case). All or nothing.",
        request=InputSerializer,
        responses=_responses(200, OutputSerializer, 400, 403, 404, 409),
        tags=["cases"],
    )
    def patch(self, request, case_id: int):
        payload = CaseUpdateApi.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        new_status = data.pop("status", None)
        close_reason = data.pop("close_reason", None)
        access = case_get_for_user(user=request.user, case_id=case_id)
        with transaction.atomic():
            case = access.case
            if data:
                case = case_update(access=access, actor=request.user, data=data)
            if new_status is not None:
                case = case_change_status(access=access, actor=request.user, status=new_status,
                                          close_reason=close_reason)
        case.refresh_from_db()
        return Response(CaseUpdateApi.OutputSerializer(case).data)


CaseCollectionApi = shared_path(
    "CaseCollectionApi", "GET lists cases, POST opens one.", get=CaseListApi, post=CaseOpenApi
)
CaseItemApi = shared_path(
    "CaseItemApi", "GET reads a case, PATCH changes it.", get=CaseDetailApi, patch=CaseUpdateApi
)


# --- Incidents -----------------------------------------------------------------------------------


class IncidentRecordApi(CaseApiView):
    @extend_schema(
        operation_id="cases_incidents_record",
        summary="Record another incident",
        description="Needs change_case. The GBVIMS type is derived from the answers.",
        request=IncidentInputSerializer,
        responses=_responses(201, IncidentSerializer, 400, 403, 404),
        tags=["incidents"],
    )
    def post(self, request, case_id: int):
        payload = IncidentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        access = case_get_for_user(user=request.user, case_id=case_id)
        incident = incident_record(access=access, actor=request.user, data=_incident_dict(payload.validated_data))
        return Response(IncidentSerializer(incident).data, status=status.HTTP_201_CREATED)


# --- Actions -------------------------------------------------------------------------------------


class ActionListApi(CaseApiView):
    @extend_schema(
        operation_id="cases_actions_list",
        summary="Actions on a case",
        description="Only actions of the data categories you may see are listed, newest first. Audited.",
        responses=_responses(200, ActionSerializer(many=True), 403, 404),
        tags=["actions"],
    )
    def get(self, request, case_id: int):
        access = case_view(user=request.user, case_id=case_id)
        actions = action_list_visible(access=access)
        return Response(ActionSerializer(actions, many=True, context=_access_context(access)).data)


class ActionLogApi(CaseApiView):
    class InputSerializer(StrictInputSerializer):
        type = serializers.ChoiceField(choices=ActionType.choices)
        category = serializers.ChoiceField(
            choices=ACTION_CATEGORY_CHOICES, required=False,
            help_text="Defaults by type (a forensic exam is medical). Only categories you may see.",
        )
        occurred_at = serializers.DateTimeField(required=False, help_text="Defaults to now.")
        text = _text("text")

        class Meta:
            ref_name = "ActionLogInput"

    @extend_schema(
        operation_id="cases_actions_log",
        summary="Log an action",
        description="Needs log_action.",
        request=InputSerializer,
        responses=_responses(201, ActionSerializer, 400, 403, 404),
        tags=["actions"],
    )
    def post(self, request, case_id: int):
        payload = ActionLogApi.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        access = case_get_for_user(user=request.user, case_id=case_id)
        action = action_log(access=access, actor=request.user, data=dict(payload.validated_data))
        return Response(ActionSerializer(action, context=_access_context(access)).data,
                        status=status.HTTP_201_CREATED)


ActionCollectionApi = shared_path(
    "ActionCollectionApi", "GET lists the actions you may see, POST logs one.", get=ActionListApi, post=ActionLogApi
)


# --- Consents ------------------------------------------------------------------------------------


class ConsentListApi(CaseApiView):
    @extend_schema(
        operation_id="cases_consents_list",
        summary="Consent records of a case",
        description="Every consent record, newest first, including withdrawn and expired ones. Audited.",
        responses=_responses(200, ConsentSerializer(many=True), 403, 404),
        tags=["consents"],
    )
    def get(self, request, case_id: int):
        access = case_view(user=request.user, case_id=case_id)
        return Response(ConsentSerializer(consent_list_for_case(access=access), many=True).data)


class ConsentRecordApi(CaseApiView):
    @extend_schema(
        operation_id="cases_consents_record",
        summary="Record consent",
        description="Needs manage_sharing. Give a receiving agency or a sector. Child rules: from 7 the child "
        "consents with a parent or guardian, under 7 a parent or guardian, from 16 the survivor alone. An "
        "emergency override needs a reason and is flagged for supervisor review. Takes effect at once.",
        request=ConsentInputSerializer,
        responses=_responses(201, ConsentSerializer, 400, 403, 404),
        tags=["consents"],
    )
    def post(self, request, case_id: int):
        payload = ConsentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        access = case_get_for_user(user=request.user, case_id=case_id)
        consent = consent_record(access=access, actor=request.user, data=dict(payload.validated_data))
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)


ConsentCollectionApi = shared_path(
    "ConsentCollectionApi", "GET lists consent records, POST records one.", get=ConsentListApi,
    post=ConsentRecordApi,
)


class ConsentWithdrawApi(CaseApiView):
    class InputSerializer(StrictInputSerializer):
        reason = _text("withdrawal_reason", help_text="Optional: the survivor owes no reason.")

        class Meta:
            ref_name = "ConsentWithdrawInput"

    @extend_schema(
        operation_id="cases_consents_withdraw",
        summary="Withdraw consent",
        description="Needs manage_sharing. The rights the consent gave end at once.",
        request=InputSerializer,
        responses=_responses(200, ConsentSerializer, 400, 403, 404),
        tags=["consents"],
    )
    def post(self, request, case_id: int, consent_id: int):
        payload = ConsentWithdrawApi.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        access = case_get_for_user(user=request.user, case_id=case_id)
        consent = consent_withdraw(access=access, actor=request.user, consent_id=consent_id,
                                   reason=payload.validated_data.get("reason", ""))
        return Response(ConsentSerializer(consent).data)


# --- Timeline ------------------------------------------------------------------------------------


class TimelineApi(CaseApiView):
    class OutputSerializer(serializers.Serializer):
        at = serializers.DateTimeField()
        type = serializers.CharField()
        category = serializers.ChoiceField(choices=ACTION_CATEGORY_CHOICES)
        agency = serializers.CharField()
        actor = serializers.CharField()
        sentence = serializers.CharField()
        details = serializers.CharField(allow_blank=True, help_text="An action's text, when you see its category.")
        hidden = serializers.BooleanField(help_text="True when you may know that it happened but not what.")
        action_id = serializers.IntegerField(allow_null=True)

        class Meta:
            ref_name = "TimelineEntry"

    @extend_schema(
        operation_id="cases_timeline",
        summary="Case timeline",
        description="What happened to the case, newest first, in sentences. Entries of categories you may not "
        "see say only that something happened. Audited.",
        responses=_responses(200, OutputSerializer(many=True), 403, 404),
        tags=["cases"],
    )
    def get(self, request, case_id: int):
        access = case_view(user=request.user, case_id=case_id)
        return Response(TimelineApi.OutputSerializer(case_timeline(access=access), many=True).data)
