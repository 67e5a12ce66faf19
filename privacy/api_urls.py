from django.urls import path

from . import api

app_name = "privacy-api"

urlpatterns = [
    path("privacy/requests/", api.RequestListApi.as_view(), name="requests"),
    path("privacy/requests/<int:request_id>/", api.RequestDetailApi.as_view(), name="request"),
    path("privacy/requests/<int:request_id>/acknowledge/", api.RequestAcknowledgeApi.as_view(), name="acknowledge"),
    path("privacy/requests/<int:request_id>/decide/", api.RequestDecideApi.as_view(), name="decide"),
    path("privacy/requests/<int:request_id>/package/", api.PackageDownloadApi.as_view(), name="package"),
    path("privacy/holds/<int:hold_id>/release/", api.HoldReleaseApi.as_view(), name="hold-release"),
    path("cases/<int:case_id>/privacy-requests/", api.CaseRequestCollectionApi.as_view(), name="case-requests"),
    path("cases/<int:case_id>/legal-holds/", api.CaseHoldCollectionApi.as_view(), name="case-holds"),
]
