"""Mounted under /api/."""

from django.urls import path

from . import apis

urlpatterns = [
    path("reports/", apis.MonthlyReportListApi.as_view(), name="api-reports"),
    path("reports/<int:report_id>/", apis.MonthlyReportDetailApi.as_view(), name="api-report"),
    path(
        "reports/<int:report_id>/download/<str:fmt>/", apis.MonthlyReportDownloadApi.as_view(),
        name="api-report-download",
    ),
]
