"""Staff announcements, mounted at /staff/announcements/."""

from django.urls import path

from campaigns import announcement_views

app_name = "announcements"

urlpatterns = [
    path("", announcement_views.announcement_list, name="list"),
    path("<int:announcement_id>/", announcement_views.announcement_detail, name="detail"),
]
