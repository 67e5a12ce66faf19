"""The deadlines API, mounted under /api/ in the handoffs-api namespace it was first named in
(config.urls): handoffs-api:deadlines, handoffs-api:deadline-done."""

from django.urls import path

from . import apis

urlpatterns = [
    path("cases/<int:case_id>/deadlines/", apis.CaseDeadlineCollectionApi.as_view(), name="deadlines"),
    path("cases/<int:case_id>/deadlines/<int:deadline_id>/done/", apis.CaseDeadlineDoneApi.as_view(),
         name="deadline-done"),
]
