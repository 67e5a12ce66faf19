"""API endpoints for signing in and for the signed-in user's own profile."""

from django.contrib.auth import logout
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer, extend_schema_view
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from agencies.models import Role, Sector
from config.api import action_schema, error_response

from .passwords import (
    CHANGE_REQUIRED_MESSAGE,
    EXPIRED_MESSAGE,
    InitialPasswordExpired,
    PasswordChangeRequired,
)
from .selectors import account_profile, api_token_list_for, signin_session_list_for
from .services import (
    InvalidCredentials,
    SecondFactorInvalid,
    SecondFactorRequired,
    api_token_obtain,
    api_token_revoke,
    signin_session_end,
)
from .throttles import AuthTokenRateThrottle


class AuthTokenObtainApi(APIView):
    # No authentication here: a session cookie must not make this endpoint CSRF-checked or
    # hand out a token without the password.
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (*api_settings.DEFAULT_THROTTLE_CLASSES, AuthTokenRateThrottle)

    @extend_schema_serializer(component_name="AuthTokenObtainInput")
    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(label=_("Username"), max_length=150)
        password = serializers.CharField(label=_("Password"), max_length=4096, trim_whitespace=False)
        otp = serializers.CharField(
            label=_("Authentication code"), max_length=64, required=False, allow_blank=True,
            help_text="The code of the second factor; required for roles that must use one.",
        )

    @extend_schema_serializer(component_name="AuthToken")
    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        expiry = serializers.DateTimeField()

    @extend_schema(
        operation_id="auth_token_obtain",
        summary="Obtain an API token",
        description="Exchange a username and password (and, for roles that require one, a second-factor code "
        "in `otp`) for a new API token. Send it as `Authorization: Token <token>`. Each sign-in gets its own "
        "token, which ends at `expiry` however much it is used, at sign-out (`/api/auth/logout/`), when its "
        "owner revokes it, and when the password changes, the account is deactivated or a role is taken away. "
        "Repeated failures pause sign-in (429 with Retry-After).",
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: error_response(400, "Missing fields (messages by field: username, password, otp), a "
                                "username/password that do not match (non_field_errors), or a missing or wrong "
                                "second-factor code (otp)."),
            403: error_response(403, "The password is a one-time password from an agency admin: expired, "
                                 "or still to be changed on the web before the API can be used."),
            429: error_response(429, "Too many failed sign-ins or requests; see Retry-After."),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            # The Django request: axes keeps its counts and lockout flag on it.
            instance, token = api_token_obtain(request=request._request, **serializer.validated_data)
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
        except SecondFactorRequired:
            message = _(
                "Your role requires a second factor: enter the code from your authenticator app (enrol one on the "
                "web page first if you have none)."
            )
            return Response({"otp": [message]}, status=status.HTTP_400_BAD_REQUEST)
        except SecondFactorInvalid:
            return Response({"otp": [_("The code is not correct.")]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(self.OutputSerializer({"token": token, "expiry": instance.expiry}).data)


@action_schema(
    "auth_logout", "Sign out", "Ends the API token this request was made with (or the web session it came with).",
    tags=["auth"],
)
class AuthLogoutApi(APIView):
    OutputSerializer = None
    success_status = status.HTTP_204_NO_CONTENT

    def post(self, request):
        if isinstance(request.auth, AuthToken):
            api_token_revoke(user=request.user, token_key=request.auth.token_key)
        else:
            logout(request._request)
        return Response(status=self.success_status)


class ApiTokenListApi(APIView):
    @extend_schema_serializer(component_name="ApiToken")
    class OutputSerializer(serializers.Serializer):
        id = serializers.CharField(source="token_key", help_text="The token's first characters; never the token.")
        created = serializers.DateTimeField()
        expiry = serializers.DateTimeField()
        current = serializers.BooleanField()

    @extend_schema(
        operation_id="auth_tokens_list",
        summary="My API tokens",
        description="The signed-in person's own API tokens that have not expired. The tokens themselves are "
        "stored only as digests and are never shown again.",
        responses={200: OutputSerializer(many=True)},
        tags=["auth"],
    )
    def get(self, request):
        current = request.auth.token_key if isinstance(request.auth, AuthToken) else None
        tokens = [
            {"token_key": t.token_key, "created": t.created, "expiry": t.expiry, "current": t.token_key == current}
            for t in api_token_list_for(user=request.user)
        ]
        return Response(self.OutputSerializer(tokens, many=True).data)


# DELETE ends one of the signed-in person's own ways in (an API token, a web session), named by the id in
# the path: 204, or 404 when none of theirs has that id. Its schema comes from `_end_schema`. (A comment,
# not a docstring: the schema would show it.)
class _EndOwnApi(APIView):
    def end(self, *, user: User, key: str) -> bool:
        raise NotImplementedError

    def delete(self, request, **path):
        (key,) = path.values()
        if not self.end(user=request.user, key=key):
            raise NotFound
        return Response(status=status.HTTP_204_NO_CONTENT)


def _end_schema(operation_id: str, summary: str, description: str | None, not_found: str):
    return extend_schema_view(delete=extend_schema(
        operation_id=operation_id, summary=summary, description=description,
        responses={204: None, 404: error_response(404, not_found)}, tags=["auth"],
    ))


@_end_schema("auth_tokens_revoke", "Revoke one of my API tokens", None, "No token of yours has this id.")
class ApiTokenRevokeApi(_EndOwnApi):
    def end(self, *, user: User, key: str) -> bool:
        return api_token_revoke(user=user, token_key=key)


class SignInSessionListApi(APIView):
    @extend_schema_serializer(component_name="SignInSession")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        started_at = serializers.DateTimeField()
        ip = serializers.IPAddressField(allow_null=True)
        user_agent = serializers.CharField(allow_blank=True)
        current = serializers.BooleanField()

    @extend_schema(
        operation_id="auth_sessions_list",
        summary="My web sessions",
        description="The signed-in person's own web sessions that are still alive.",
        responses={200: OutputSerializer(many=True)},
        tags=["auth"],
    )
    def get(self, request):
        current = request.session.session_key
        sessions = [
            {"id": s.pk, "started_at": s.started_at, "ip": s.ip, "user_agent": s.user_agent,
             "current": s.session_key == current}
            for s in signin_session_list_for(user=request.user)
        ]
        return Response(self.OutputSerializer(sessions, many=True).data)


@_end_schema("auth_sessions_end", "End one of my web sessions", "Signs that browser out.",
             "No session of yours has this id.")
class SignInSessionEndApi(_EndOwnApi):
    def end(self, *, user: User, key: str) -> bool:
        return signin_session_end(user=user, record_id=key)


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
