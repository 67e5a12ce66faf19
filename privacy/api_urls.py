from django.urls import include, path

from config.routes import member_routes

from . import api

app_name = "privacy-api"

urlpatterns = [
    path("privacy/", include([
        path("requests/", api.RequestListApi.as_view(), name="requests"),
        path("requests/<int:request_id>/", member_routes(
            api.RequestDetailApi.as_view(), "request",
            acknowledge=api.RequestAcknowledgeApi.as_view(),
            decide=api.RequestDecideApi.as_view(),
            package=api.PackageDownloadApi.as_view(),
        )),
        path("holds/<int:hold_id>/release/", api.HoldReleaseApi.as_view(), name="hold-release"),
    ])),
    path("cases/<int:case_id>/", include([
        path("privacy-requests/", api.CaseRequestCollectionApi.as_view(), name="case-requests"),
        path("legal-holds/", api.CaseHoldCollectionApi.as_view(), name="case-holds"),
    ])),
]
