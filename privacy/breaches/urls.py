from django.urls import path

from . import views

# The register moved here from audit; its pages keep their URLs and names ("audit:breach").
app_name = "audit"
urlpatterns = [
    path("breaches/", views.breach_list_page, name="breaches"),
    path("breaches/new/", views.breach_new_page, name="breach-new"),
    path("breaches/<int:breach_id>/", views.breach_detail_page, name="breach"),
]
