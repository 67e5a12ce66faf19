from django.urls import path

from . import apis, mfa_views, views

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("login/code/", mfa_views.mfa_verify, name="mfa_verify"),
    path("account/second-factor/", mfa_views.mfa_setup, name="mfa_setup"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("acting-agency/", views.acting_agency_choose, name="acting_agency"),
    path("account/session/extend/", views.session_extend, name="session_extend"),
    path("work/", views.responder_home, name="responder_home"),
    # The supervisor's home (/supervision/) is supervision:register, served by supervision.urls.
    path("staff/", views.agency_admin_home, name="agency_admin_home"),
    path("reports/", views.analyst_home, name="analyst_home"),
    path("account/sessions/", views.signins_page, name="signins"),
    path("account/sessions/<int:session_id>/end/", views.signin_session_end_view, name="signin_session_end"),
    path("account/tokens/<str:token_id>/revoke/", views.api_token_revoke_view, name="api_token_revoke"),
    # On the agency admin's staff page (agencies), served here because lockouts belong to accounts.
    path(
        "agencies/<int:agency_id>/staff/<int:membership_id>/unlock/",
        views.staff_lockout_lift_view,
        name="staff_lockout_lift",
    ),
    path("api/auth/token/", apis.AuthTokenObtainApi.as_view(), name="api-token"),
    path("api/auth/logout/", apis.AuthLogoutApi.as_view(), name="api-logout"),
    path("api/auth/tokens/", apis.ApiTokenListApi.as_view(), name="api-tokens"),
    path("api/auth/tokens/<str:token_id>/", apis.ApiTokenRevokeApi.as_view(), name="api-token-revoke"),
    path("api/auth/sessions/", apis.SignInSessionListApi.as_view(), name="api-sessions"),
    path("api/auth/sessions/<int:session_id>/", apis.SignInSessionEndApi.as_view(), name="api-session-end"),
    path("api/me/", apis.MeApi.as_view(), name="api-me"),
]
