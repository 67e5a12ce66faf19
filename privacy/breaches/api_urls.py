from django.urls import path

from . import apis

urlpatterns = [
    path("breaches/", apis.BreachesApi.as_view(), name="api-breaches"),
    path("breaches/<int:breach_id>/", apis.BreachApi.as_view(), name="api-breach"),
]
