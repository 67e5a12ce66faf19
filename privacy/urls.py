from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("requests/", views.request_list_page, name="requests"),
    path("requests/<int:request_id>/", views.request_detail_page, name="request"),
    path("requests/<int:request_id>/acknowledge/", views.request_acknowledge_page, name="acknowledge"),
    path("requests/<int:request_id>/decide/", views.request_decide_page, name="decide"),
    path("requests/<int:request_id>/package/", views.package_download_page, name="package"),
    path("cases/<int:case_id>/requests/new/", views.request_record_page, name="record"),
    path("cases/<int:case_id>/holds/", views.case_holds_page, name="case-holds"),
    path("holds/<int:hold_id>/release/", views.hold_release_page, name="hold-release"),
    path("retention/", views.retention_page, name="retention"),
]
