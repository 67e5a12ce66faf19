from django.urls import path

from . import views

app_name = "conferences"

urlpatterns = [
    path("", views.meeting_list_page, name="list"),
    path("schedule/", views.meeting_schedule_page, name="schedule"),
    path("<int:meeting_id>/", views.meeting_detail_page, name="detail"),
    path("<int:meeting_id>/<slug:operation>/", views.meeting_operation_page, name="operation"),
    path("plan/<int:item_id>/", views.plan_item_page, name="plan-item"),
    path("plan/<int:item_id>/finish/", views.plan_item_finish_page, name="plan-finish"),
]
