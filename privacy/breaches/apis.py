"""The breach API: list and record (GET/POST /api/breaches/), read and change one
(GET/PATCH /api/breaches/<id>/). System administrators do everything; supervisors of an affected
agency read; everyone else gets 403 (404 for a breach of no agency they supervise)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from config.api import ApiView, CursorPage, responses

from ..models import Breach
from .selectors import breach_get_for_user, breach_list_for_user, is_breach_admin
from .serializers import BreachInputSerializer
from .services import breach_record, breach_update

TAGS = ["breaches"]
REFUSALS = {
    "d403": "Not signed in, or neither a system administrator nor a supervisor of an affected agency (writing: not "
            "a system administrator).",
    "d404": "No such breach, or one of no agency you supervise.",
}


class BreachOutputSerializer(serializers.ModelSerializer):
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    affected_agencies = serializers.SerializerMethodField()
    access_events = serializers.ListField(source="access_event_seqs", child=serializers.IntegerField())
    overdue = serializers.BooleanField()
    notified_late = serializers.BooleanField()

    class Meta:
        model = Breach
        fields = [
            "id", "status", "recorded_by", "recorded_at", "discovered_at", "occurred_at", "description", "categories",
            "subjects_approx", "records_approx", "consequences", "measures_taken", "measures_proposed",
            "contact_point", "affected_agencies", "access_events", "due_at", "notified_at", "delay_reason", "overdue",
            "notified_late",
        ]

    def get_affected_agencies(self, breach) -> list[int]:
        return sorted(a.pk for a in breach.affected_agencies.all())


def _admin_only(request) -> None:
    if not is_breach_admin(request.user):
        raise PermissionDenied


class BreachListApi(ApiView):
    pagination_class = CursorPage
    ordering = ("-recorded_at", "-id")

    @extend_schema(tags=TAGS, operation_id="breaches_list",
                   responses=responses(200, BreachOutputSerializer(many=True), 403, **REFUSALS))
    def get(self, request):
        page = self.paginate(breach_list_for_user(user=request.user))
        return self.page_response(BreachOutputSerializer(page, many=True).data)


class BreachRecordApi(ApiView):
    @extend_schema(tags=TAGS, operation_id="breaches_record", request=BreachInputSerializer,
                   responses=responses(201, BreachOutputSerializer, 400, 403, **REFUSALS))
    def post(self, request):
        _admin_only(request)
        values = self.validated_input(BreachInputSerializer)
        breach = breach_record(
            actor=request.user,
            affected_agencies=values.pop("affected_agencies", []), access_events=values.pop("access_events", []),
            **values,
        )
        return Response(BreachOutputSerializer(breach).data, status=status.HTTP_201_CREATED)


class BreachesApi(BreachListApi, BreachRecordApi):
    """Personal-data breaches: GET lists, POST records one."""


class BreachDetailApi(ApiView):
    @extend_schema(tags=TAGS, operation_id="breaches_retrieve",
                   responses=responses(200, BreachOutputSerializer, 403, 404, **REFUSALS))
    def get(self, request, breach_id: int):
        return Response(BreachOutputSerializer(breach_get_for_user(user=request.user, breach_id=breach_id)).data)


class BreachChangeApi(ApiView):
    @extend_schema(tags=TAGS, operation_id="breaches_update", request=BreachInputSerializer(partial=True),
                   responses=responses(200, BreachOutputSerializer, 400, 403, 404, **REFUSALS))
    def patch(self, request, breach_id: int):
        _admin_only(request)
        breach = breach_get_for_user(user=request.user, breach_id=breach_id)
        values = self.validated_input(BreachInputSerializer, partial=True)
        breach = breach_update(
            actor=request.user, breach=breach,
            affected_agencies=values.pop("affected_agencies", None), access_events=values.pop("access_events", None),
            **values,
        )
        return Response(BreachOutputSerializer(breach_get_for_user(user=request.user, breach_id=breach.pk)).data)


class BreachApi(BreachDetailApi, BreachChangeApi):
    """One personal-data breach: GET reads it, PATCH changes it."""
