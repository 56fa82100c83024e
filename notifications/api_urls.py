from django.urls import path

from notifications import apis

urlpatterns = [
    path("notifications/", apis.NotificationsApi.as_view(), name="api-notifications"),
    path("notifications/read/", apis.NotificationsReadApi.as_view(), name="api-notifications-read"),
    path("notifications/<int:notification_id>/read/", apis.NotificationReadApi.as_view(), name="api-notification-read"),
    path("notifications/preferences/", apis.PreferencesApi.as_view(), name="api-notification-preferences"),
]
