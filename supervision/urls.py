"""Mounted at /supervision/. The register itself is /supervision/, the supervisor's home page
(accounts names it by URL, `supervision:register`, and imports nothing from supervision)."""

from django.urls import include, path

from . import views

app_name = "supervision"

urlpatterns = [
    path("", views.handoff_register_page, name="register"),
    path("handoffs/<int:handoff_id>/", views.handoff_review_page, name="handoff"),
    path("reviews/", views.review_queue_page, name="queue"),
    path("consent-overrides/<int:consent_id>/", views.consent_override_review_page, name="consent-override"),
    path("break-glass/<int:use_id>/", views.break_glass_review_page, name="break-glass-review"),
    path("access/", include([
        path("", views.access_log_page, name="access"),
        path("export.csv", views.access_log_export, name="access-export"),
    ])),
    path("unusual-access/", views.unusual_access_page, name="unusual-access"),
    path("dashboard/", views.dashboard_page, name="dashboard"),
]
