from django.urls import path

from . import api

app_name = "cases-api"

urlpatterns = [
    path("cases/", api.CaseCollectionApi.as_view(), name="cases"),
    path("cases/<int:case_id>/", api.CaseItemApi.as_view(), name="case"),
    path("cases/<int:case_id>/incidents/", api.IncidentRecordApi.as_view(), name="incidents"),
    path("cases/<int:case_id>/actions/", api.ActionCollectionApi.as_view(), name="actions"),
    path("cases/<int:case_id>/consents/", api.ConsentCollectionApi.as_view(), name="consents"),
    path(
        "cases/<int:case_id>/consents/<int:consent_id>/withdraw/", api.ConsentWithdrawApi.as_view(),
        name="consent-withdraw",
    ),
    path("cases/<int:case_id>/timeline/", api.TimelineApi.as_view(), name="timeline"),
]
