"""The staff inbox page (/staff/inbox/). The webhook doors are served in front of Django (cashback/wsgi.py)."""

from django.urls import path

from cashback import staff_views

app_name = "inbox"

urlpatterns = [
    path("staff/inbox/", staff_views.inbox_list, name="staff_list"),
    path("staff/inbox/<int:event_pk>/", staff_views.inbox_detail, name="staff_detail"),
    path("staff/inbox/<int:event_pk>/retry/", staff_views.inbox_retry, name="staff_retry"),
]
