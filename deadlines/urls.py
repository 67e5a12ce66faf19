"""Mounted at /cases/ beside cases.urls: a responder's deadlines on a case."""

from django.urls import path

from . import views as views

app_name = "case-deadlines"

urlpatterns = [
    path("<int:case_id>/deadlines/new/", views.case_deadline_set_page, name="set"),
    path("<int:case_id>/deadlines/<int:deadline_id>/done/", views.case_deadline_done_page, name="done"),
]
