from django.urls import include, path

from . import api

app_name = "privacy-api"

urlpatterns = [
    path("privacy/", include([
        path("requests/", api.RequestListApi.as_view(), name="requests"),
        path("requests/<int:request_id>/", include([
            path("", api.RequestDetailApi.as_view(), name="request"),
            path("acknowledge/", api.RequestAcknowledgeApi.as_view(), name="acknowledge"),
            path("decide/", api.RequestDecideApi.as_view(), name="decide"),
            path("package/", api.PackageDownloadApi.as_view(), name="package"),
        ])),
        path("holds/<int:hold_id>/release/", api.HoldReleaseApi.as_view(), name="hold-release"),
    ])),
    path("cases/<int:case_id>/", include([
        path("privacy-requests/", api.CaseRequestCollectionApi.as_view(), name="case-requests"),
        path("legal-holds/", api.CaseHoldCollectionApi.as_view(), name="case-holds"),
    ])),
]
