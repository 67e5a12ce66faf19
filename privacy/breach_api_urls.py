from django.urls import path

from . import breach_apis

urlpatterns = [
    path("breaches/", breach_apis.BreachesApi.as_view(), name="api-breaches"),
    path("breaches/<int:breach_id>/", breach_apis.BreachApi.as_view(), name="api-breach"),
]
