from django.urls import include, path

from . import views

app_name = "conferences"

urlpatterns = [
    path("", views.meeting_list_page, name="list"),
    path("schedule/", views.meeting_schedule_page, name="schedule"),
    path("<int:meeting_id>/", include([
        path("", views.meeting_detail_page, name="detail"),
        path("<slug:operation>/", views.meeting_operation_page, name="operation"),
    ])),
    path("plan/<int:item_id>/", include([
        path("", views.plan_item_page, name="plan-item"),
        path("finish/", views.plan_item_finish_page, name="plan-finish"),
    ])),
]
