"""The API toolkit every app's API module uses: the base view, input pieces, cursor pagination, and
the error bodies with their schema declarations. One place, so that every operation answers errors
in the same shape and documents them the same way.

Errors have two shapes, both JSON objects:
- bad input (400): messages by dotted field path, `{"survivor.birth_year": ["Enter a whole number."]}`,
  or `{"detail": "..."}` for a body that cannot be read at all (not JSON, too deep, too large);
- a state that does not allow the action (409), or a request that cannot be carried out as sent (422):
  messages by field too, `{"status": ["..."]}`;
- every other refusal (403, 404, 410, 429): `{"detail": "...", "code": "..."}`, `code` optional.

`api_exception_handler` (REST_FRAMEWORK["EXCEPTION_HANDLER"]) makes them so for every API view, whether
the message came from an input serializer or from a service (Django's ValidationError).
"""

import copy
from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import empty
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView, exception_handler

from agencies.acting import ACTING_AGENCY_HEADER, acting_agency_parse, acting_agency_validate

from .exceptions import NotFound, StateConflict, Unprocessable
from .forms import line_breaks_joined
from .parsers import BoundedJSONParser

# --- Errors --------------------------------------------------------------------------------------


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF nests errors of nested serializers; the services use dotted keys. Dotted it is."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            for path, messages in flatten_errors(value, f"{prefix}{key}.").items():
                flat.setdefault(path, []).extend(messages)
        return flat
    key = prefix[:-1] or api_settings.NON_FIELD_ERRORS_KEY
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return {key: [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            for path, messages in flatten_errors(item, f"{prefix}{index}.").items():
                flat.setdefault(path, []).extend(messages)
        return flat
    return {key: [str(detail)]}


def api_exception_handler(exc, context):
    """DRF's handler, plus a 400 for Django's ValidationError (what the services raise on bad
    input), with field errors flattened to dotted paths, and a 409 with the same field messages for a
    StateConflict (the object's state does not allow the action now), a 422 for an Unprocessable (a
    request that cannot be carried out as sent). A domain NotFound is answered as DRF answers Http404;
    Http404 and PermissionDenied are mapped by DRF itself to {"detail": ...}."""
    if isinstance(exc, NotFound):
        exc = exceptions.NotFound()
    status = 409 if isinstance(exc, StateConflict) else 422 if isinstance(exc, Unprocessable) else None
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
        exc = ValidationError(detail)
    if isinstance(exc, ValidationError):
        exc = ValidationError(flatten_errors(exc.detail))
    response = exception_handler(exc, context)
    if status is not None and response is not None:
        response.status_code = status
    return response


class ErrorDetailSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False, help_text="A stable name for the reason, where there is one.")

    class Meta:
        ref_name = "ErrorDetail"


# A map from dotted field path to messages; the paths depend on the input, hence no fixed properties.
FIELD_ERRORS_BODY = {
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "Instead of field messages: the body could not "
                                                               "be read at all."}},
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "example": {"survivor.birth_year": ["Enter a whole number."], "incident.answers.penetration": ["Yes or no."]},
}

ERROR_DESCRIPTIONS = {
    400: "Bad input: messages by dotted field path (or a `detail` for a body that cannot be read).",
    403: "Not signed in, or a right this operation needs is not held.",
    404: "Nothing of this id that you may see (missing and not shared look alike).",
    409: "Its state does not allow this now (cases.transitions): messages by field.",
    410: "Gone: it was there and is no more.",
    422: "The Idempotency-Key was sent before with another body: messages by field.",
    429: "Too many requests; see Retry-After.",
}


def error_response(code: int, description: str | None = None) -> OpenApiResponse:
    """The documented body of an error status, with its description (or the usual one)."""
    body = FIELD_ERRORS_BODY if code in (400, 409, 422) else ErrorDetailSerializer
    return OpenApiResponse(body, description=description or ERROR_DESCRIPTIONS[code])


def responses(ok_status: int | tuple[int, str], ok_body, *codes: int, **descriptions: str) -> dict:
    """extend_schema(responses=...) for an operation: its success body and the error statuses it
    answers, in the error shapes above. `descriptions` override by status: `d404="..."`. The
    success status may name its media type: `(200, "text/csv")`.

    400, 403, 404 and 429 need not be listed: config.schema documents them on every operation that
    can answer them (input, a signed-in user, a path id, the throttles)."""
    return {
        ok_status: ok_body,
        **{code: error_response(code, descriptions.get(f"d{code}")) for code in codes},
    }


# --- Pagination ----------------------------------------------------------------------------------


class CursorPage(CursorPagination):
    """Cursor pagination for every list of the API: `{"next", "previous", "results"}`. The view
    names its ordering (`ordering = ("-sent_at", "-id")`) and may change the page sizes
    (`page_size`, `max_page_size`); the schema documents the page and its parameters for any
    APIView whose `pagination_class` is this (config.schema)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        self.page_size = getattr(view, "page_size", self.page_size)
        self.max_page_size = getattr(view, "max_page_size", self.max_page_size)
        return super().paginate_queryset(queryset, request, view=view)

    def get_ordering(self, request, queryset, view):
        return getattr(view, "ordering", None) or super().get_ordering(request, queryset, view)


# --- Views ---------------------------------------------------------------------------------------


class JsonFirstNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, answered without parsing anything when the request leaves the choice to the view
    (no Accept header, `*/*` or `application/json`, and no format asked for by suffix or query) and the view's
    first renderer is JSON: what DRF's walk over the Accept list answers then, the first renderer with its own
    media type. Every other request goes through DRF's walk, and one that it finds nothing for is answered
    by the first renderer, never 406."""

    LEFT_TO_THE_VIEW = frozenset({None, "*/*", "application/json"})

    def select_renderer(self, request, renderers, format_suffix=None):
        override = self.settings.URL_FORMAT_OVERRIDE
        if (not format_suffix and renderers and renderers[0].media_type == "application/json"
                and request.META.get("HTTP_ACCEPT") in self.LEFT_TO_THE_VIEW
                and not (override and request.query_params.get(override))):
            return renderers[0], renderers[0].media_type
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.NotAcceptable:
            # An Accept header that none of the view's renderers satisfies (text/csv on a JSON list, say) is
            # answered in the view's first one, as RFC 9110 (12.5.1) allows, rather than with a 406 that no
            # operation documents; the Content-Type says what it is.
            return renderers[0], renderers[0].media_type


# Whether an empty query string validates to nothing, by filter serializer class (validated_query).
_EMPTY_QUERY_IS_NOTHING: dict[type, bool] = {}


def _empty_query_is_nothing(serializer_class: type[serializers.Serializer]) -> bool:
    """Whether DRF's validation of an empty query by this serializer is certain to give `{}`: every field
    optional without a default (each is skipped) and nothing of DRF's validation replaced by the class
    (no validate(), no validators of its own, fields as declared)."""
    known = _EMPTY_QUERY_IS_NOTHING.get(serializer_class)
    if known is None:
        base = serializers.Serializer
        meta = getattr(serializer_class, "Meta", None)
        known = _EMPTY_QUERY_IS_NOTHING[serializer_class] = (
            all(not field.required and field.default is empty
                for field in serializer_class._declared_fields.values())
            and all(getattr(serializer_class, name) is getattr(base, name) for name in (
                "__init__", "get_fields", "run_validation", "validate_empty_values", "to_internal_value",
                "run_validators", "get_validators", "validate"))
            and not getattr(meta, "validators", None)
        )
    return known


class ApiView(APIView):
    """Base of the API's views: JSON only (bounded, config.parsers). A person of several agencies
    names the one they act for in the `X-Acting-Agency` header (agencies.acting); a header that is
    not one of their agencies is refused here, after authentication, permissions and throttles
    (DRF's initial()) and before anything is read.

    One class per URL, with a method per HTTP verb; its permission and throttle classes apply to
    every method. A list view sets `pagination_class = CursorPage` and `ordering`, takes
    `page = self.paginate(queryset)` and answers `self.page_response(serialized page)`."""

    parser_classes = [BoundedJSONParser]
    content_negotiation_class = JsonFirstNegotiation
    # Whether the operation acts for an agency: the header is checked here and documented by
    # config.schema. Off for the views of one's own things (notifications, reports, the profile).
    acting_agency_header = True
    pagination_class: type[CursorPage] | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        header = request.headers.get(ACTING_AGENCY_HEADER) if self.acting_agency_header else None
        if header is not None:
            acting_agency_validate(user=request.user, agency_id=acting_agency_parse(header))

    def validated_input(self, serializer_class: type[serializers.Serializer], *, partial: bool = False,
                        **context) -> dict:
        """The request body checked by the operation's input serializer: its validated data, or a 400
        with messages by field (api_exception_handler)."""
        serializer = serializer_class(data=self.request.data, context=context, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def validated_query(self, serializer_class: type[serializers.Serializer]) -> dict:
        """The query string checked by the operation's filter serializer, as validated_input the body. An
        empty query string with a filter serializer of optional fields only is `{}` without making it."""
        if not self.request.query_params and _empty_query_is_nothing(serializer_class):
            return {}
        serializer = serializer_class(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def paginate(self, queryset) -> list:
        """One page of the queryset, by the view's pagination class and ordering."""
        self.paginator = self.pagination_class()
        return self.paginator.paginate_queryset(queryset, self.request, view=self)

    def page_response(self, data):
        return self.paginator.get_paginated_response(data)


class ActionApi(ApiView):
    """One POST that changes one thing: access first (`access()`: 404 for what you may not see, 403
    without the right), the body second (`InputSerializer`: 400 with messages by field), then the
    service (`act()`). The answer is the thing as `OutputSerializer` shows it to that access (which
    its `allowed_actions` read from the context), with `success_status`. The path's ids come as
    keyword arguments to both. Its schema comes from `action_schema`."""

    InputSerializer: type[serializers.Serializer]
    OutputSerializer: type[serializers.Serializer]
    success_status = 200

    def access(self, **ids):
        raise NotImplementedError

    def input_context(self, access) -> dict:
        """What the input serializer needs to know beyond the body: nothing, unless said."""
        return {}

    def act(self, access, data: dict, **ids):
        raise NotImplementedError

    def respond(self, access, result) -> Response:
        return Response(self.OutputSerializer(result, context={"access": access}).data, status=self.success_status)

    def post(self, request, **ids):
        access = self.access(**ids)
        data = self.validated_input(self.InputSerializer, **self.input_context(access))
        return self.respond(access, self.act(access, data, **ids))


def _view_schema(method: str, operation_id: str, summary: str, description: str | None, tags: list[str], parts):
    """A class decorator: extend_schema for the view's `method`, with what `parts(view)` reads from the
    view itself (its request and responses)."""

    def decorate(view):
        return extend_schema_view(**{method: extend_schema(
            operation_id=operation_id, summary=summary, description=description, tags=tags, **parts(view),
        )})(view)

    return decorate


def action_schema(operation_id: str, summary: str, description: str | None, *codes: int, tags: list[str],
                  **descriptions: str):
    """extend_schema for an ActionApi's POST (or any view's POST that names them), from the view itself: its
    InputSerializer is the request (a view without one takes no body), its OutputSerializer with its
    success_status (200 where it names none) the answer, beside the error statuses `codes`, described as
    `responses` does. A POST that answers no body names `OutputSerializer = None`."""
    return _view_schema("post", operation_id, summary, description, tags, lambda view: {
        "request": getattr(view, "InputSerializer", None),
        "responses": responses(getattr(view, "success_status", 200), view.OutputSerializer, *codes, **descriptions),
    })


def read_schema(operation_id: str, summary: str, description: str | None, *codes: int, tags: list[str],
                **descriptions: str):
    """extend_schema for a view's GET, from the view itself: its FilterSerializer (where it has one) is
    the query, its OutputSerializer the answer (a page of them where the view is paginated), beside the
    error statuses `codes`, described as `responses` does."""

    def parts(view) -> dict:
        body = view.OutputSerializer(many=True) if getattr(view, "pagination_class", None) else view.OutputSerializer
        query = {"parameters": [view.FilterSerializer]} if hasattr(view, "FilterSerializer") else {}
        return {**query, "responses": responses(200, body, *codes, **descriptions)}

    return _view_schema("get", operation_id, summary, description, tags, parts)


def list_schema(operation_id: str, summary: str, description: str, *codes: int, tags: list[str]):
    """extend_schema for the GET of a view that answers a list of its ItemSerializer (a
    cases.apis.CaseRecordListApi), beside the error statuses `codes`."""
    return _view_schema("get", operation_id, summary, description, tags, lambda view: {
        "responses": responses(200, view.ItemSerializer(many=True), *codes),
    })


class OwnApiView(ApiView):
    """A view of the signed-in person's own things (notifications, preferences, reports they may
    read): no agency is acted for, so no acting-agency header."""

    acting_agency_header = False


# --- Input ---------------------------------------------------------------------------------------


def _flat_field(field: serializers.Field) -> bool:
    """Whether a copy of the declared field's own attributes is as good as DRF's deep copy of it: a field
    with no field or serializer inside it (which would stay bound to the declared one) and no default that
    could be changed in place (DRF hands the default itself to validated_data)."""
    if isinstance(field, (serializers.BaseSerializer, serializers.ListField, serializers.DictField,
                          serializers.ManyRelatedField, serializers.RelatedField)) or hasattr(field, "child"):
        return False
    default = field.default
    return default is empty or callable(default) or isinstance(default, (str, int, float, bool, type(None)))


# By input serializer class: each declared field's name, the field, and whether it is flat (_flat_field).
_DECLARED_INPUT_FIELDS: dict[type, tuple[tuple[str, serializers.Field, bool], ...]] = {}


class StrictInputSerializer(serializers.Serializer):
    """Unknown keys are refused, not dropped, as the services refuse them: a client that expects
    a field to change is told that it cannot.

    Each serializer made copies its declared fields (DRF's get_fields deep-copies them, which builds
    every field anew from its arguments: most of the CPU of checking a small body). A flat field is
    copied attribute by attribute instead (copy.copy: the same arguments, choices, validators and
    messages, bound afresh to this serializer by DRF); any other is deep-copied as DRF does."""

    def get_fields(self):
        declared = _DECLARED_INPUT_FIELDS.get(type(self))
        if declared is None:
            declared = _DECLARED_INPUT_FIELDS[type(self)] = tuple(
                (name, field, _flat_field(field)) for name, field in self._declared_fields.items())
        return {name: copy.copy(field) if flat else copy.deepcopy(field) for name, field, flat in declared}

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


class DateTimeField(serializers.DateTimeField):
    """A date and time of this world, 1900 to 2100. Far older ones are typing errors, and would be
    written back with the local mean time offset of their century (+07:06:30), which is no RFC 3339."""

    default_error_messages = {"out_of_range": _lazy("Enter a date and time between 1900 and 2100.")}

    def to_internal_value(self, value):
        result = super().to_internal_value(value)
        if not 1900 <= result.year <= 2100:
            self.fail("out_of_range")
        return result


class BooleanField(serializers.BooleanField):
    """true or false only, as the schema says: DRF's BooleanField would also take "yes", "on" and 1."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class TextField(serializers.CharField):
    """Text only: DRF's CharField would turn 5 into "5". Its line breaks are counted as one character each,
    as a page's text box counts them (config.forms.line_breaks_joined)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(line_breaks_joined(data))


def input_validate(serializer_class: type[serializers.Serializer], data, *, partial: bool = False, **context) -> dict:
    """The operation's input checked by its serializer, for callers that are not API views (the pages,
    commands): its validated data, or a Django ValidationError with the API's dotted field paths, which
    a page shows on its form (cases.forms.ServiceErrorsMixin) and the API answers as a 400."""
    serializer = serializer_class(data=data, context=context, partial=partial)
    if not serializer.is_valid():
        raise DjangoValidationError(flatten_errors(serializer.errors))
    return dict(serializer.validated_data)
