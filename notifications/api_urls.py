"""Mounted under /api/."""

from django.urls import path

from . import apis

urlpatterns = [
    path("notifications/", apis.NotificationListApi.as_view(), name="api-notifications"),
    path("notifications/<int:notification_id>/read/", apis.NotificationReadApi.as_view(), name="api-notification-read"),
    path("notifications/read-all/", apis.NotificationReadAllApi.as_view(), name="api-notifications-read-all"),
    path("notification-preferences/", apis.NotificationPreferencesApi.as_view(), name="api-notification-preferences"),
    path("deadlines/", apis.DeadlineListApi.as_view(), name="api-deadlines"),
]
