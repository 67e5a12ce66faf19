from django.urls import include, path

from . import api

app_name = "cases-api"

urlpatterns = [
    path("cases/", include([
        path("", api.CaseCollectionApi.as_view(), name="cases"),
        path("<int:case_id>/", include([
            path("", api.CaseItemApi.as_view(), name="case"),
            path("incidents/", api.IncidentRecordApi.as_view(), name="incidents"),
            path("actions/", api.ActionCollectionApi.as_view(), name="actions"),
            path("consents/", include([
                path("", api.ConsentCollectionApi.as_view(), name="consents"),
                path("<int:consent_id>/withdraw/", api.ConsentWithdrawApi.as_view(), name="consent-withdraw"),
            ])),
            path("timeline/", api.TimelineApi.as_view(), name="timeline"),
        ])),
    ])),
]
