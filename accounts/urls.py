from django.urls import path

from . import apis, views

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("acting-agency/", views.acting_agency_choose, name="acting_agency"),
    path("work/", views.responder_home, name="responder_home"),
    path("supervision/", views.supervisor_home, name="supervisor_home"),
    path("staff/", views.agency_admin_home, name="agency_admin_home"),
    path("reports/", views.analyst_home, name="analyst_home"),
    path("api/auth/token/", apis.AuthTokenObtainApi.as_view(), name="api-token"),
    path("api/me/", apis.MeApi.as_view(), name="api-me"),
]
