"""API endpoints for signing in and for the signed-in user's own profile."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from agencies.models import Role, Sector

from .passwords import (
    CHANGE_REQUIRED_MESSAGE,
    EXPIRED_MESSAGE,
    InitialPasswordExpired,
    PasswordChangeRequired,
)
from .selectors import account_profile
from .services import InvalidCredentials, auth_token_obtain

_error_body = inline_serializer(
    name="AuthTokenObtainError",
    fields={
        "username": serializers.ListField(child=serializers.CharField(), required=False),
        "password": serializers.ListField(child=serializers.CharField(), required=False),
        api_settings.NON_FIELD_ERRORS_KEY: serializers.ListField(child=serializers.CharField(), required=False),
    },
)


class AuthTokenObtainApi(APIView):
    # No authentication here: a session cookie must not make this endpoint CSRF-checked or
    # hand out a token without the password.
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema_serializer(component_name="AuthTokenObtainInput")
    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(label=_("Username"), max_length=150)
        password = serializers.CharField(label=_("Password"), max_length=4096, trim_whitespace=False)

    @extend_schema_serializer(component_name="AuthToken")
    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(
        operation_id="auth_token_obtain",
        summary="Obtain an API token",
        description="Exchange a username and password for the user's API token. Send it as "
        "`Authorization: Token <token>`.",
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(_error_body, description="Missing fields or a username/password that do not match."),
            403: OpenApiResponse(description="The password is a one-time password from an agency admin: expired, "
                                 "or still to be changed on the web before the API can be used."),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token = auth_token_obtain(request=request, **serializer.validated_data)
        except InvalidCredentials:
            return Response(
                {api_settings.NON_FIELD_ERRORS_KEY: [_("The username or password is not correct.")]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        except InitialPasswordExpired:
            return Response({"detail": EXPIRED_MESSAGE, "code": "initial_password_expired"},
                            status=status.HTTP_403_FORBIDDEN)
        except PasswordChangeRequired:
            return Response({"detail": CHANGE_REQUIRED_MESSAGE, "code": "password_change_required"},
                            status=status.HTTP_403_FORBIDDEN)
        return Response(self.OutputSerializer({"token": token.key}).data)


class MeApi(APIView):
    @extend_schema_serializer(component_name="Me")
    class OutputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="MeMembership")
        class MembershipSerializer(serializers.Serializer):
            agency_id = serializers.IntegerField()
            agency_name = serializers.CharField()
            sector = serializers.ChoiceField(choices=Sector.choices)
            province_code = serializers.CharField()
            role = serializers.ChoiceField(choices=Role.choices)

        @extend_schema_serializer(component_name="MeAnalystScope")
        class AnalystScopeSerializer(serializers.Serializer):
            national = serializers.BooleanField()
            province_code = serializers.CharField(allow_null=True)
            province_name = serializers.CharField(allow_null=True)

        username = serializers.CharField()
        full_name = serializers.CharField(allow_blank=True)
        memberships = MembershipSerializer(many=True)
        analyst_scopes = AnalystScopeSerializer(many=True)

    @extend_schema(
        operation_id="me_retrieve",
        summary="The signed-in user",
        description="Username, agency memberships with their roles, and analyst reporting scopes. No case data.",
        responses={200: OutputSerializer},
        tags=["auth"],
    )
    def get(self, request):
        return Response(self.OutputSerializer(account_profile(user=request.user)).data)
