from django.urls import path

from . import intake_views, views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_open_page, name="open"),
    path("intake/", intake_views.intake_start, name="intake"),
    path("intake/communes/", intake_views.intake_communes, name="intake-communes"),
    path("intake/<int:draft_id>/discard/", intake_views.intake_discard, name="intake-discard"),
    path("intake/<int:draft_id>/<slug:step>/", intake_views.intake_step, name="intake-step"),
    path("<int:case_id>/", views.case_detail, name="detail"),
    path("<int:case_id>/status/", views.case_status_change, name="status"),
    path("<int:case_id>/close/", views.case_close_page, name="close"),
    path("<int:case_id>/actions/new/", views.action_log_page, name="action-log"),
    path("<int:case_id>/consents/new/", views.consent_record_page, name="consent-record"),
    path("<int:case_id>/consents/<int:consent_id>/withdraw/", views.consent_withdraw_page, name="consent-withdraw"),
]
