"""The takedown API, mounted under /api/ in the cases-api namespace (config.urls), beside the case
API it extends: cases-api:takedowns, cases-api:takedown-outcome."""

from django.urls import path

from . import apis

urlpatterns = [
    path("cases/<int:case_id>/takedowns/", apis.TakedownCollectionApi.as_view(), name="takedowns"),
    path("cases/<int:case_id>/takedowns/<int:takedown_id>/outcome/", apis.TakedownOutcomeApi.as_view(),
         name="takedown-outcome"),
]
