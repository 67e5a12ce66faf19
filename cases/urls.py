from django.urls import include, path

from . import views
from .intake import views as intake_views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_open_page, name="open"),
    path("intake/", include([
        path("", intake_views.intake_start, name="intake"),
        path("communes/", intake_views.intake_communes, name="intake-communes"),
        path("<int:draft_id>/discard/", intake_views.intake_discard, name="intake-discard"),
        path("<int:draft_id>/<slug:step>/", intake_views.intake_step, name="intake-step"),
    ])),
    path("<int:case_id>/", include([
        path("", views.case_detail, name="detail"),
        path("status/", views.case_status_change, name="status"),
        path("close/", views.case_close_page, name="close"),
        path("actions/new/", views.action_log_page, name="action-log"),
        path("consents/", include([
            path("new/", views.consent_record_page, name="consent-record"),
            path("<int:consent_id>/withdraw/", views.consent_withdraw_page, name="consent-withdraw"),
        ])),
    ])),
]
