"""OpenAPI schema generation shared by every app's API."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from agencies.acting import ACTING_AGENCY_HEADER

ACTING_AGENCY_PARAMETER = OpenApiParameter(
    ACTING_AGENCY_HEADER, OpenApiTypes.INT, OpenApiParameter.HEADER, required=False,
    description="The id of the agency you act for, if you work for several (responder or supervisor in more "
    "than one agency). You read what all your agencies may see; writes (opening a case, logging actions, "
    "consents, sending and answering handoffs, deadlines, takedowns) are made on behalf of this agency, and "
    "are refused with 400 on the field `agency` when you work for several and name none. An agency you do "
    "not work for gives 400. Left out by people of one agency, who act for it. Wins over the agency chosen "
    "in the web pages.",
)


class HopLucAutoSchema(AutoSchema):
    """Names nested serializers after their API view.

    Our API views each declare their own `InputSerializer` and `OutputSerializer`; by class name
    alone they would all become the one component "Output" and overwrite each other in the schema.
    `CaseListApi.OutputSerializer` becomes "CaseListOutput".
    """

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if getattr(self.view, "acting_agency_header", False):
            parameters.append(ACTING_AGENCY_PARAMETER)
        return parameters

    def get_serializer_name(self, serializer, direction):
        cls = serializer.__class__
        owner, _, name = cls.__qualname__.rpartition(".")
        if not owner or "<locals>" in owner:
            return cls.__name__
        return owner.split(".")[-1].removesuffix("Api") + name
