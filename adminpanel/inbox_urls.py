"""The staff inbox page (/staff/inbox/), under its own "inbox" namespace. The webhook doors are served
in front of Django (cashback/wsgi.py)."""

from django.urls import path

from adminpanel import inbox_views

app_name = "inbox"

urlpatterns = [
    path("staff/inbox/", inbox_views.inbox_list, name="staff_list"),
    path("staff/inbox/<int:event_pk>/", inbox_views.inbox_detail, name="staff_detail"),
    path("staff/inbox/<int:event_pk>/retry/", inbox_views.inbox_retry, name="staff_retry"),
]
