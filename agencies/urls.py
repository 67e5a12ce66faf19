from django.urls import include, path

from . import views

app_name = "agencies"

# One staff member of the agency: /agencies/<agency_id>/staff/<membership_id>/...
staff_member_urls = [
    path("role/", views.staff_change, name="staff_change_role"),
    path("remove/", views.staff_remove_view, name="staff_remove"),
    path("second-factor/reset/", views.staff_mfa_reset, name="staff_mfa_reset"),
    path("one-time-password/", views.staff_reissue_password, name="staff_reissue_password"),
    path("break-glass/", views.staff_break_glass, name="staff_break_glass"),
]

urlpatterns = [
    path("<int:agency_id>/", include([
        path("staff/", views.staff_list, name="staff"),
        path("staff/add/", views.staff_add_existing, name="staff_add_existing"),
        path("staff/new/", views.staff_create, name="staff_create"),
        path("staff/<int:membership_id>/", include(staff_member_urls)),
        path("second-factor/", views.agency_mfa_setting, name="mfa_setting"),
    ])),
]
