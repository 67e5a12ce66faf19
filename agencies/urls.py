from django.urls import path

from . import views

app_name = "agencies"

urlpatterns = [
    path("<int:agency_id>/staff/", views.staff_list, name="staff"),
    path("<int:agency_id>/staff/add/", views.staff_add_existing, name="staff_add_existing"),
    path("<int:agency_id>/staff/new/", views.staff_create, name="staff_create"),
    path("<int:agency_id>/staff/<int:membership_id>/role/", views.staff_change, name="staff_change_role"),
    path("<int:agency_id>/staff/<int:membership_id>/remove/", views.staff_remove_view, name="staff_remove"),
    path("<int:agency_id>/staff/<int:membership_id>/second-factor/reset/", views.staff_mfa_reset,
         name="staff_mfa_reset"),
    path("<int:agency_id>/second-factor/", views.agency_mfa_setting, name="mfa_setting"),
]
