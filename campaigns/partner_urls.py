"""The partner API's order endpoints, mounted at /api/v1/partner/ beside ``merchants.partner_urls``."""

from django.urls import path

from campaigns import partner_apis

urlpatterns = [
    path("orders/", partner_apis.OrdersApi.as_view(), name="partner-orders"),
    path("orders/<str:order_id>/", partner_apis.OrderDetailApi.as_view(), name="partner-order"),
    path("orders/<str:order_id>/refunds/", partner_apis.OrderRefundsApi.as_view(), name="partner-order-refunds"),
]
