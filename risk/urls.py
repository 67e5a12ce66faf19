from django.urls import path

from . import views

app_name = "risk"

urlpatterns = [
    path("<int:case_id>/risk/assess/", views.assessment_page, name="assess"),
    path("<int:case_id>/risk/review/", views.review_request_page, name="review"),
    path("<int:case_id>/risk/<int:assessment_id>/", views.assessment_detail_page, name="assessment"),
]
