from django.urls import include, path

from config.routes import member_routes

from . import apis

app_name = "privacy-api"

urlpatterns = [
    path("privacy/", include([
        path("requests/", apis.RequestListApi.as_view(), name="requests"),
        path("requests/<int:request_id>/", member_routes(
            apis.RequestDetailApi.as_view(), "request",
            acknowledge=apis.RequestAcknowledgeApi.as_view(),
            decide=apis.RequestDecideApi.as_view(),
            package=apis.PackageDownloadApi.as_view(),
        )),
        path("holds/<int:hold_id>/release/", apis.HoldReleaseApi.as_view(), name="hold-release"),
    ])),
    path("cases/<int:case_id>/", include([
        path("privacy-requests/", apis.CaseRequestCollectionApi.as_view(), name="case-requests"),
        path("legal-holds/", apis.CaseHoldCollectionApi.as_view(), name="case-holds"),
    ])),
]
