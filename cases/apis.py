"""The case API: one APIView per operation, each with its own input and output serializers.

Views are thin. Access is decided by `cases.selectors.case_get_for_user` (directly, or through the
audited `case_view`), writes by the services in `cases.services`. Errors keep one shape for the
client: a 400 body maps dotted field paths ("survivor.birth_year") to lists of messages, whether a
message came from an input serializer here or from a service.
"""

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from agencies.acting import ActingAgencyRequired, acting_agency_pick, case_membership_agencies
from agencies.models import Agency
from config.api import (
    ActionApi,
    ApiView,
    CursorPage,
    DateTimeField,
    action_schema,
    list_schema,
    read_schema,
    responses,
)
from config.exceptions import NotFound
from permissions.categories import ACTION_CATEGORY_CHOICES, CaseRight

from .models import (
    CaseStatus,
    RiskLevel,
)
from .selectors import (
    CaseList,
    action_list_visible,
    case_get_for_user,
    case_prefetch_for_detail,
    consent_list_for_case,
)
from .sending import sending_fingerprint, sending_record, sending_record_get, sent_once
from .serializers import (
    ActionLogInputSerializer,
    ActionSerializer,
    CaseConsentSerializer,
    CaseDetailSerializer,
    CaseIncidentSerializer,
    CaseOpenInputSerializer,
    CaseSummarySerializer,
    CaseUpdateInputSerializer,
    CaseUserRefSerializer,
    ConsentInputSerializer,
    ConsentWithdrawInputSerializer,
    IncidentInputSerializer,
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

# The toolkit lives in config.api; the base view keeps its name here.
CaseApiView = ApiView


def _access_context(access) -> dict:
    return {"access": access}


class CaseActionApi(ActionApi):
    """An ActionApi on a case or on a thing of it (an incident, an action, a consent, a deadline, a
    takedown request, a risk review): the case with the right the action needs is its access (404 for a
    case not shared with you, 403 without the right), before the body is read."""

    required_right = CaseRight.LOG_ACTION
    # The service that does it, when it takes the access, the actor and the checked body and nothing
    # else: `service = staticmethod(action_log)`. An action that needs more writes its own act().
    service: Callable[..., object]

    def access(self, *, case_id: int, **ids):
        return case_get_for_user(user=self.request.user, case_id=case_id, require=self.required_right)

    def act(self, access, data: dict, **ids):
        return self.service(access=access, actor=self.request.user, data=data)


IDEMPOTENCY_KEY = "Idempotency-Key"


def once_per_key(request, create: Callable[[], Any], respond: Callable[[Any], Response],
                 replay: Callable[[Any], Response] | None = None) -> Response:
    """create() (a service that creates or changes one record, and returns it) answered by respond(the
    record), once per Idempotency-Key when the request has one (cases.sending): a request sent again with
    the key, after a dropped connection, writes nothing and is answered by replay(the record the first
    wrote, read again; respond by default), with `Idempotent-Replayed: true`; while the first runs it
    waits for it. The key sent again with another body is refused with 422, one that is not a UUID with 400."""
    header = request.headers.get(IDEMPOTENCY_KEY)
    if header is None:
        return respond(create())
    try:
        key = uuid.UUID(header)
    except ValueError:
        raise DjangoValidationError({IDEMPOTENCY_KEY: [_("Send a UUID.")]}) from None
    created = []

    def send() -> str:
        created.append(create())
        return sending_record(created[0])

    sent = sent_once(token=key, user=request.user, send=send, field=IDEMPOTENCY_KEY,
                     fingerprint=sending_fingerprint([request.path, request.data]))
    if not sent.again:
        return respond(created[0])
    response = (replay or respond)(sending_record_get(sent.location))
    response["Idempotent-Replayed"] = "true"
    return response


class OncePerKeyApi(ActionApi):
    """An ActionApi whose POST writes a record, once per Idempotency-Key (once_per_key): act() returns the
    record, and respond() answers with it; replay() answers a request sent again, with it read again."""

    idempotency_key = True

    def post(self, request, **ids):
        access = self.access(**ids)
        data = self.validated_input(self.InputSerializer, **self.input_context(access))
        return once_per_key(request, lambda: self.act(access, data, **ids), lambda record: self.respond(access, record),
                            lambda record: self.replay(access, record))

    def replay(self, access, record) -> Response:
        return self.respond(access, record)


class CaseRecordCreateApi(OncePerKeyApi, CaseActionApi):
    """A CaseActionApi that records a new thing of the case (an incident, an action, a consent, a deadline, a
    takedown request, a risk assessment or review): it answers 201 Created, once per Idempotency-Key."""

    success_status = status.HTTP_201_CREATED

    def replay(self, access, record) -> Response:
        """A request sent again is a read of what it wrote: where its URL also lists these records (a
        collection, GET and POST), only while that list shows it to the reader now (an action of a category
        no longer shared is a 404, as reading it is)."""
        items = getattr(self, "items", None)
        if items is not None and not items(access).filter(pk=record.pk).exists():
            raise NotFound
        return self.respond(access, record)


class CaseRecordListApi(ApiView):
    """A GET of the records of a case (its actions, consents, takedown requests...): the case is read as
    an audited view (404 for a case not shared with you), then `items(access)` are each shown by
    `ItemSerializer`, with that access in its context. Its schema comes from `list_schema`."""

    ItemSerializer: type[serializers.Serializer]
    # The selector that reads them, from the case's access alone: `selector = staticmethod(...)`. A list
    # read otherwise writes its own items().
    selector: Callable[..., Iterable]

    def items(self, access):
        return self.selector(access=access)

    def get(self, request, case_id: int):
        access = case_view(user=request.user, case_id=case_id)
        return Response(self.ItemSerializer(self.items(access), many=True,
                                            context={**_access_context(access), "user": request.user}).data)


# --- Cases ---------------------------------------------------------------------------------------


@read_schema(
    "cases_list", "Cases shared with you",
    "Most recently updated first, cursor-paginated. Every page read is audited (one event naming the cases on the "
    "page). Analysts and agency admins see no cases.",
    tags=["cases"],
)
class CaseListApi(CaseApiView):
    OutputSerializer = CaseSummarySerializer
    pagination_class = CursorPage
    # sort_at: the case's updated_at as the selector reads it (from the access rows' index).
    ordering = ("-sort_at", "-id")

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=CaseStatus.choices, required=False)
        risk_level = serializers.ChoiceField(choices=RiskLevel.choices, required=False)
        province = serializers.CharField(max_length=8, required=False, help_text="Province code.")
        updated_since = DateTimeField(required=False, help_text="ISO 8601 date and time.")
        number = serializers.CharField(max_length=20, required=False, help_text="Exact case number.")

    def get(self, request):
        criteria = self.validated_query(self.FilterSerializer)
        if "province" in criteria:
            criteria["province_code"] = criteria.pop("province")
        # The first page (no cursor) is read with the reader's holders: DRF's cursor pagination reads the
        # page and one case more.
        read_ahead = None if "cursor" in request.query_params else (0, CursorPage().get_page_size(request) + 1)
        page = self.paginate(CaseList(user=request.user, criteria=criteria, read_ahead=read_ahead))
        case_list_audit(user=request.user, case_ids=[case.pk for case in page])
        return self.page_response(self.OutputSerializer(page, many=True).data)


class CaseOpenApi(CaseApiView):
    InputSerializer = CaseOpenInputSerializer
    idempotency_key = True

    @extend_schema(
        operation_id="cases_open",
        summary="Open a case",
        description="The survivor, the first incident (classified by the GBVIMS answers) and optionally the "
        "survivor's first consent, in one transaction. Your agency leads the case and you are responsible.",
        request=InputSerializer,
        responses=responses(201, CaseDetailSerializer, 400, 403),
        tags=["cases"],
    )
    def post(self, request):
        data = self.validated_input(CaseOpenApi.InputSerializer)
        return once_per_key(request, lambda: case_open(
            actor=request.user,
            agency=_opening_agency(user=request.user, agency_id=data.get("agency")),
            survivor=dict(data["survivor"]),
            incident=data["incident"],
            consent=data.get("consent"),
            risk_level=data["risk_level"],
            statistics_consent=data["statistics_consent"],
        ), self.opened)

    def opened(self, case) -> Response:
        # The opener has just entered all of it; the create event in the audit trail covers this echo.
        access = case_get_for_user(user=self.request.user, case_id=case.pk)
        case_prefetch_for_detail(access.case)
        return Response(CaseDetailSerializer(access.case, context=_access_context(access)).data,
                        status=status.HTTP_201_CREATED)


def _opening_agency(*, user: User, agency_id: int | None) -> Agency:
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


class CaseDetailApi(CaseApiView):
    @extend_schema(
        operation_id="cases_retrieve",
        summary="One case",
        description="Survivor identity and contact fields are present only when you hold those categories "
        "(absent, not null, otherwise). Every read is audited.",
        responses=responses(200, CaseDetailSerializer, 403, 404),
        tags=["cases"],
    )
    def get(self, request, case_id: int):
        access = case_view(user=request.user, case_id=case_id)
        case_prefetch_for_detail(access.case)
        return Response(CaseDetailSerializer(access.case, context=_access_context(access)).data)


class CaseUpdateApi(CaseApiView):
    InputSerializer = CaseUpdateInputSerializer

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        number = serializers.CharField()
        status = serializers.ChoiceField(choices=CaseStatus.choices)
        risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
        responsible = CaseUserRefSerializer(allow_null=True)
        statistics_consent = serializers.BooleanField()
        updated_at = DateTimeField()
        closed_at = DateTimeField(allow_null=True)

    @extend_schema(
        operation_id="cases_update",
        summary="Change a case",
        description="Risk level, responsible person, statistics consent (needs change_case) and status "
        "(closing and reopening need close_case). All or nothing.",
        request=InputSerializer,
        responses=responses(200, OutputSerializer, 400, 403, 404, 409),
        tags=["cases"],
    )
    def patch(self, request, case_id: int):
        data = self.validated_input(CaseUpdateApi.InputSerializer)
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


class CaseCollectionApi(CaseListApi, CaseOpenApi):
    """/api/cases/: GET lists cases, POST opens one."""


class CaseItemApi(CaseDetailApi, CaseUpdateApi):
    """/api/cases/<id>/: GET reads a case, PATCH changes it."""


# --- Incidents -----------------------------------------------------------------------------------


@action_schema(
    "cases_incidents_record", "Record another incident",
    "Needs change_case. The GBVIMS type is derived from the answers.",
    400, 403, 404, tags=["incidents"],
)
class IncidentRecordApi(CaseRecordCreateApi):
    required_right = CaseRight.CHANGE
    InputSerializer = IncidentInputSerializer
    OutputSerializer = CaseIncidentSerializer
    service = staticmethod(incident_record)


# --- Actions -------------------------------------------------------------------------------------


@list_schema(
    "cases_actions_list", "Actions on a case",
    "Only actions of the data categories you may see are listed, newest first. Audited.",
    403, 404, tags=["actions"],
)
class ActionListApi(CaseRecordListApi):
    ItemSerializer = ActionSerializer
    selector = staticmethod(action_list_visible)


@action_schema("cases_actions_log", "Log an action", "Needs log_action.", 400, 403, 404, tags=["actions"])
class ActionLogApi(CaseRecordCreateApi):
    InputSerializer = ActionLogInputSerializer
    OutputSerializer = ActionSerializer
    service = staticmethod(action_log)


class ActionCollectionApi(ActionListApi, ActionLogApi):
    """GET lists the actions you may see, POST logs one."""


# --- Consents ------------------------------------------------------------------------------------


@list_schema(
    "cases_consents_list", "Consent records of a case",
    "Every consent record, newest first, including withdrawn and expired ones. Audited.",
    403, 404, tags=["consents"],
)
class ConsentListApi(CaseRecordListApi):
    ItemSerializer = CaseConsentSerializer
    selector = staticmethod(consent_list_for_case)


@action_schema(
    "cases_consents_record", "Record consent",
    "Needs manage_sharing. Give a receiving agency or a sector. Child rules: from 7 the child consents with a "
    "parent or guardian, under 7 a parent or guardian, from 16 the survivor alone. An emergency override needs a "
    "reason and is flagged for supervisor review. Takes effect at once.",
    400, 403, 404, tags=["consents"],
)
class ConsentRecordApi(CaseRecordCreateApi):
    required_right = CaseRight.MANAGE_SHARING
    InputSerializer = ConsentInputSerializer
    OutputSerializer = CaseConsentSerializer
    service = staticmethod(consent_record)


class ConsentCollectionApi(ConsentListApi, ConsentRecordApi):
    """GET lists consent records, POST records one."""


@action_schema(
    "cases_consents_withdraw", "Withdraw consent", "Needs manage_sharing. The rights the consent gave end at once.",
    400, 403, 404, tags=["consents"],
)
class ConsentWithdrawApi(CaseActionApi):
    required_right = CaseRight.MANAGE_SHARING
    InputSerializer = ConsentWithdrawInputSerializer
    OutputSerializer = CaseConsentSerializer

    def act(self, access, data: dict, *, consent_id: int, **ids):
        return consent_withdraw(access=access, actor=self.request.user, consent_id=consent_id,
                                reason=data.get("reason", ""))


# --- Timeline ------------------------------------------------------------------------------------


@list_schema(
    "cases_timeline", "Case timeline",
    "What happened to the case, newest first, in sentences. Entries of categories you may not see say only that "
    "something happened. Audited.",
    403, 404, tags=["cases"],
)
class TimelineApi(CaseRecordListApi):
    selector = staticmethod(case_timeline)

    class ItemSerializer(serializers.Serializer):
        at = DateTimeField()
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
