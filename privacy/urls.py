from django.urls import include, path

from . import views

app_name = "privacy"

urlpatterns = [
    path("requests/", views.request_list_page, name="requests"),
    path("requests/<int:request_id>/", include([
        path("", views.request_detail_page, name="request"),
        path("acknowledge/", views.request_acknowledge_page, name="acknowledge"),
        path("decide/", views.request_decide_page, name="decide"),
        path("package/", views.package_download_page, name="package"),
    ])),
    path("cases/<int:case_id>/", include([
        path("requests/new/", views.request_record_page, name="record"),
        path("holds/", views.case_holds_page, name="case-holds"),
    ])),
    path("holds/<int:hold_id>/release/", views.hold_release_page, name="hold-release"),
    path("retention/", views.retention_page, name="retention"),
]
