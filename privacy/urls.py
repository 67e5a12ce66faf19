from django.urls import include, path

from config.routes import member_routes

from . import views

app_name = "privacy"

urlpatterns = [
    path("requests/", views.request_list_page, name="requests"),
    path("requests/<int:request_id>/", member_routes(
        views.request_detail_page, "request",
        acknowledge=views.request_acknowledge_page,
        decide=views.request_decide_page,
        package=views.package_download_page,
    )),
    path("cases/<int:case_id>/", include([
        path("requests/new/", views.request_record_page, name="record"),
        path("holds/", views.case_holds_page, name="case-holds"),
    ])),
    path("holds/<int:hold_id>/release/", views.hold_release_page, name="hold-release"),
    path("retention/", views.retention_page, name="retention"),
]
