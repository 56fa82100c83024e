"""The partner API's merchant endpoints, mounted at /api/v1/partner/ (wallet mounts spend holds there too)."""

from django.urls import path

from merchants import partner_apis

urlpatterns = [
    path("orders/", partner_apis.OrdersApi.as_view(), name="partner-orders"),
    path("orders/<str:order_id>/", partner_apis.OrderDetailApi.as_view(), name="partner-order"),
    path("orders/<str:order_id>/refunds/", partner_apis.OrderRefundsApi.as_view(), name="partner-order-refunds"),
    path("customers/", partner_apis.CustomersApi.as_view(), name="partner-customers"),
]
