"""OpenAPI schema generation shared by every app's API."""

from drf_spectacular.openapi import AutoSchema


class HopLucAutoSchema(AutoSchema):
    """Names nested serializers after their API view.

    Our API views each declare their own `InputSerializer` and `OutputSerializer`; by class name
    alone they would all become the one component "Output" and overwrite each other in the schema.
    `CaseListApi.OutputSerializer` becomes "CaseListOutput".
    """

    def get_serializer_name(self, serializer, direction):
        cls = serializer.__class__
        owner, _, name = cls.__qualname__.rpartition(".")
        if not owner or "<locals>" in owner:
            return cls.__name__
        return owner.split(".")[-1].removesuffix("Api") + name
