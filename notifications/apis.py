"""API: the signed-in user's notifications, preferences and deadlines. Nobody sees anyone else's."""

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from config.api import CursorPage, OwnApiView, action_schema, read_schema

from .models import Channel, Deadline, NotificationKind
from .selectors import (
    DEADLINE_STATES,
    deadline_list_for_user,
    notification_get_for_user,
    notification_list_for_user,
    preference_matrix_for_user,
    user_has_deadline_role,
)
from .services import notification_mark_all_read, notification_mark_read, preferences_update
from .texts import notification_url


class NotificationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    kind_label = serializers.CharField(source="get_kind_display")
    case_number = serializers.CharField()
    link = serializers.CharField()
    url = serializers.SerializerMethodField()
    params = serializers.DictField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)

    def get_url(self, notification) -> str:
        return notification_url(link=notification.link)


@read_schema(
    "notifications_list", "My notifications",
    "The signed-in user's in-app notifications, newest first (cursor pagination).",
    tags=["notifications"],
)
class NotificationListApi(OwnApiView):
    OutputSerializer = NotificationOutputSerializer
    pagination_class = CursorPage
    ordering = ("-created_at", "-id")

    class FilterSerializer(serializers.Serializer):
        unread = serializers.BooleanField(required=False, default=False, help_text="Only unread notifications.")

    def get(self, request):
        filters = self.validated_query(self.FilterSerializer)
        qs = notification_list_for_user(user=request.user)
        if filters["unread"]:
            qs = qs.filter(read_at__isnull=True)
        page = self.paginate(qs)
        return self.page_response(self.OutputSerializer(page, many=True).data)


@action_schema("notifications_read", "Mark one notification read", None, tags=["notifications"])
class NotificationReadApi(OwnApiView):
    OutputSerializer = NotificationOutputSerializer

    def post(self, request, notification_id: int):
        notification = notification_get_for_user(user=request.user, notification_id=notification_id)
        if notification is None:
            raise Http404
        notification_mark_read(notification=notification)
        return Response(self.OutputSerializer(notification).data)


@action_schema("notifications_read_all", "Mark all my notifications read", None, tags=["notifications"])
class NotificationReadAllApi(OwnApiView):
    class OutputSerializer(serializers.Serializer):
        marked = serializers.IntegerField()

    def post(self, request):
        return Response({"marked": notification_mark_all_read(user=request.user)})


class PreferenceRowSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    label = serializers.CharField()
    channels = serializers.DictField(child=serializers.BooleanField())
    locked = serializers.ListField(child=serializers.ChoiceField(choices=Channel.choices))


class NotificationPreferencesApi(OwnApiView):
    class InputSerializer(serializers.Serializer):
        class ChoiceSerializer(serializers.Serializer):
            kind = serializers.ChoiceField(choices=NotificationKind.choices)
            channel = serializers.ChoiceField(choices=Channel.choices)
            enabled = serializers.BooleanField()

        preferences = ChoiceSerializer(many=True, allow_empty=False, max_length=len(NotificationKind) * len(Channel))

    class OutputSerializer(serializers.Serializer):
        preferences = PreferenceRowSerializer(many=True)

    def _matrix(self, user: User):
        rows = preference_matrix_for_user(user=user)
        data = [
            {"kind": r.kind, "label": r.label, "channels": r.channels, "locked": sorted(r.locked)} for r in rows
        ]
        return Response(self.OutputSerializer({"preferences": data}).data)

    @extend_schema(
        operation_id="notification_preferences_retrieve",
        summary="My notification preferences",
        description="Every event × channel (in_app, email, sms) with my choice or the default. `locked` "
        "channels cannot be switched off (escalations and emergencies stay on in the app).",
        responses={200: OutputSerializer},
        tags=["notifications"],
    )
    def get(self, request):
        return self._matrix(request.user)

    @extend_schema(
        operation_id="notification_preferences_update",
        summary="Change my notification preferences",
        description="Send the event × channel choices to change; others keep their value. Switching off a "
        "locked channel is refused with 400.",
        request=InputSerializer,
        responses={200: OutputSerializer},
        tags=["notifications"],
    )
    def put(self, request):
        payload = self.validated_input(self.InputSerializer)
        choices = [(c["kind"], c["channel"], c["enabled"]) for c in payload["preferences"]]
        try:
            preferences_update(user=request.user, choices=choices)
        except ValidationError as exc:
            raise serializers.ValidationError({"preferences": exc.messages}) from exc
        return self._matrix(request.user)


@read_schema(
    "deadlines_list", "My deadlines",
    "Open deadlines I answer for: mine, my agency's unassigned ones, and for supervisors all of their agency's and "
    "those escalated to it. `state`: due_soon (within DEADLINE_DUE_SOON_HOURS) or overdue.",
    tags=["deadlines"],
)
class DeadlineListApi(OwnApiView):
    pagination_class = CursorPage
    ordering = ("due_at", "id")

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=DEADLINE_STATES, required=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        kind = serializers.ChoiceField(choices=Deadline.Kind.choices)
        subject = serializers.CharField()
        case_id = serializers.IntegerField(allow_null=True)
        case_number = serializers.CharField()
        link = serializers.CharField()
        owner_agency_id = serializers.IntegerField()
        owner_user_id = serializers.IntegerField(allow_null=True)
        stage = serializers.ChoiceField(choices=Deadline.Stage.choices)
        due_at = serializers.DateTimeField()
        remind_at = serializers.DateTimeField()
        escalate_at = serializers.DateTimeField()

    def get(self, request):
        if not user_has_deadline_role(user=request.user):
            raise PermissionDenied
        filters = self.validated_query(self.FilterSerializer)
        qs = deadline_list_for_user(user=request.user, state=filters.get("state"))
        page = self.paginate(qs)
        return self.page_response(self.OutputSerializer(page, many=True).data)
