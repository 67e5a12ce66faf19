"""Mounted under /api/."""

from django.urls import include, path

from . import apis

app_name = "supervision-api"

urlpatterns = [
    path("supervision/", include([
        path("handoffs/", include([
            path("", apis.HandoffRegisterApi.as_view(), name="handoffs"),
            path("summary/", apis.HandoffSummaryApi.as_view(), name="handoffs-summary"),
            path("<int:handoff_id>/", apis.HandoffDetailApi.as_view(), name="handoff"),
        ])),
        path("reviews/", include([
            path("", apis.ReviewCreateApi.as_view(), name="reviews"),
            path("queue/", apis.ReviewQueueApi.as_view(), name="review-queue"),
        ])),
        path("access/", include([
            path("", apis.AccessLogApi.as_view(), name="access"),
            path("export.csv", apis.AccessLogExportApi.as_view(), name="access-export"),
        ])),
        path("unusual-access/", apis.UnusualAccessApi.as_view(), name="unusual-access"),
        path("dashboard/", apis.DashboardApi.as_view(), name="dashboard"),
    ])),
    path("break-glass/", apis.BreakGlassOpenApi.as_view(), name="break-glass"),
]
