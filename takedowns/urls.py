"""Takedown pages, mounted at /cases/ in the cases namespace (config.urls), so that their paths and
names stay those of the case pages they belong to: cases:takedown-request, cases:takedown-outcome."""

from django.urls import path

from . import views

urlpatterns = [
    path("<int:case_id>/takedowns/new/", views.takedown_request_page, name="takedown-request"),
    path("<int:case_id>/takedowns/<int:takedown_id>/outcome/", views.takedown_outcome_page,
         name="takedown-outcome"),
]
