"""The webhook doors (/webhooks/...) and the staff inbox page (/staff/inbox/)."""

from django.urls import path

from cashback import staff_views, webhooks

app_name = "inbox"

urlpatterns = [
    path("webhooks/visa/", webhooks.visa_webhook, name="visa_webhook"),
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("webhooks/stripe/connect/", webhooks.stripe_connect_webhook, name="stripe_connect_webhook"),
    path("staff/inbox/", staff_views.inbox_list, name="staff_list"),
    path("staff/inbox/<int:event_pk>/", staff_views.inbox_detail, name="staff_detail"),
    path("staff/inbox/<int:event_pk>/retry/", staff_views.inbox_retry, name="staff_retry"),
]
