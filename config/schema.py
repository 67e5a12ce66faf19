"""OpenAPI schema generation shared by every app's API."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import AllowAny

from agencies.acting import ACTING_AGENCY_HEADER

from .api import error_response

ACTING_AGENCY_PARAMETER = OpenApiParameter(
    ACTING_AGENCY_HEADER, OpenApiTypes.INT, OpenApiParameter.HEADER, required=False,
    description="The id of the agency you act for, if you work for several (responder or supervisor in more "
    "than one agency). You read what all your agencies may see; writes (opening a case, logging actions, "
    "consents, sending and answering handoffs, deadlines, takedowns) are made on behalf of this agency, and "
    "are refused with 400 on the field `agency` when you work for several and name none. An agency you do "
    "not work for gives 400. Left out by people of one agency, who act for it. Wins over the agency chosen "
    "in the web pages.",
)


IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.UUID, OpenApiParameter.HEADER, required=False,
    description="A UUID of your own for this request, new for each record you mean to create. Sent again with "
    "the same key (after a dropped connection, say), the request creates nothing: it is answered with the "
    "record the first one created, with `Idempotent-Replayed: true`, or waits while the first still runs. "
    "409 when the first began more than 10 s ago and never finished (look before you send it again, with a "
    "new key) or the key is someone else's; 422 when the key was sent with another body. Kept a day.",
)


class HopLucAutoSchema(AutoSchema):
    """Names nested serializers after their API view, and documents what every operation may answer.

    Our API views each declare their own `InputSerializer` and `OutputSerializer`; by class name
    alone they would all become the one component "Output" and overwrite each other in the schema.
    `CaseListApi.OutputSerializer` becomes "CaseListOutput". Any other serializer is its component by its
    class name ("CaseAgencyRefSerializer" is "CaseAgencyRef"), so a serializer is named where it is
    declared; `Meta.ref_name` only where a component keeps another name than its class.

    Errors that do not depend on the operation are added where the operation does not document
    them itself, in the shapes of config.api: 400 wherever there is input (a body, a query or the
    acting-agency header), 403 wherever one must be signed in, 404 wherever the path names an id,
    and 429 everywhere (the throttles). A list's cursor that
    is not (or no longer) valid is a 404 too. A POST that takes an Idempotency-Key may answer 409 and 422.
    """

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if getattr(self.view, "acting_agency_header", False):
            parameters.append(ACTING_AGENCY_PARAMETER)
        if getattr(self.view, "idempotency_key", False) and self.method == "POST":
            parameters.append(IDEMPOTENCY_KEY_PARAMETER)
        return parameters

    def get_serializer_name(self, serializer, direction):
        cls = serializer.__class__
        owner, _, name = cls.__qualname__.rpartition(".")
        if not owner or "<locals>" in owner:
            return cls.__name__
        return owner.split(".")[-1].removesuffix("Api") + name

    def _implied_error_codes(self) -> list[int]:
        codes = [429]
        takes_input = (
            self.method != "GET" or getattr(self.view, "acting_agency_header", False)
            or self._get_paginator() is not None or bool(super().get_override_parameters())
        )
        if takes_input:
            codes.append(400)
        if not all(issubclass(p, AllowAny) for p in getattr(self.view, "permission_classes", ())):
            codes.append(403)
        if "{" in self.path or self._get_paginator() is not None:  # a path id, or a cursor that is no more
            codes.append(404)
        if getattr(self.view, "idempotency_key", False) and self.method == "POST":
            codes += [409, 422]
        return sorted(codes)

    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        for code in self._implied_error_codes():
            if str(code) not in bodies:
                bodies[str(code)] = self._get_response_for_code(error_response(code), str(code), direction=direction)
        return dict(sorted(bodies.items()))
