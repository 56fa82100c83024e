"""The partner API's action events, mounted at /api/v1/partner/ beside merchants' and campaigns' doors."""

from django.urls import path

from programmes import partner_apis

urlpatterns = [path("events/", partner_apis.EventsApi.as_view(), name="partner-events")]
