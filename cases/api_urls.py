from django.urls import include, path

from . import apis

app_name = "cases-api"

urlpatterns = [
    path("cases/", include([
        path("", apis.CaseCollectionApi.as_view(), name="cases"),
        path("<int:case_id>/", include([
            path("", apis.CaseItemApi.as_view(), name="case"),
            path("incidents/", apis.IncidentRecordApi.as_view(), name="incidents"),
            path("actions/", apis.ActionCollectionApi.as_view(), name="actions"),
            path("consents/", include([
                path("", apis.ConsentCollectionApi.as_view(), name="consents"),
                path("<int:consent_id>/withdraw/", apis.ConsentWithdrawApi.as_view(), name="consent-withdraw"),
            ])),
            path("timeline/", apis.TimelineApi.as_view(), name="timeline"),
        ])),
    ])),
]
