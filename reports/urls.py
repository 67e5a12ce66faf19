"""Pages under /reports/ (the list itself is the analyst's home page, accounts:analyst_home)."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("<int:report_id>/", views.report_detail, name="detail"),
    path("<int:report_id>/download/<str:fmt>/", views.report_download, name="download"),
]
