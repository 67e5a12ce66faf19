"""Mounted under /api/."""

from django.urls import path

from . import apis

app_name = "supervision-api"

urlpatterns = [
    path("supervision/handoffs/", apis.HandoffRegisterApi.as_view(), name="handoffs"),
    path("supervision/handoffs/summary/", apis.HandoffSummaryApi.as_view(), name="handoffs-summary"),
    path("supervision/handoffs/<int:handoff_id>/", apis.HandoffDetailApi.as_view(), name="handoff"),
    path("supervision/reviews/", apis.ReviewCreateApi.as_view(), name="reviews"),
    path("supervision/reviews/queue/", apis.ReviewQueueApi.as_view(), name="review-queue"),
    path("supervision/access/", apis.AccessLogApi.as_view(), name="access"),
    path("supervision/access/export.csv", apis.AccessLogExportApi.as_view(), name="access-export"),
    path("supervision/unusual-access/", apis.UnusualAccessApi.as_view(), name="unusual-access"),
    path("supervision/dashboard/", apis.DashboardApi.as_view(), name="dashboard"),
    path("break-glass/", apis.BreakGlassOpenApi.as_view(), name="break-glass"),
]
