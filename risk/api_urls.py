from django.urls import path

from . import apis

app_name = "risk-api"

urlpatterns = [
    path("cases/<int:case_id>/risk-assessments/", apis.AssessmentCollectionApi.as_view(), name="assessments"),
    path("cases/<int:case_id>/risk-assessments/<int:assessment_id>/", apis.AssessmentItemApi.as_view(),
         name="assessment"),
    path("cases/<int:case_id>/risk-reviews/", apis.ReviewRequestApi.as_view(), name="reviews"),
    path("risk/instrument/", apis.InstrumentApi.as_view(), name="instrument"),
    path("risk/meeting-eligible/", apis.MeetingEligibleApi.as_view(), name="meeting-eligible"),
]
