"""The partner API's merchant endpoints, mounted at /api/v1/partner/: customer links and spend holds
(the order endpoints are in ``campaigns.partner_urls``, mounted at the same prefix)."""

from django.urls import path

from merchants import partner_apis, spend_partner_apis

urlpatterns = [
    path("customers/", partner_apis.CustomersApi.as_view(), name="partner-customers"),
    path("spend/holds/", spend_partner_apis.SpendHoldsApi.as_view(), name="partner-spend-holds"),
    path("spend/holds/<int:hold_id>/", spend_partner_apis.SpendHoldDetailApi.as_view(), name="partner-spend-hold"),
    path(
        "spend/holds/<int:hold_id>/capture/",
        spend_partner_apis.SpendHoldCaptureApi.as_view(),
        name="partner-spend-hold-capture",
    ),
    path(
        "spend/holds/<int:hold_id>/release/",
        spend_partner_apis.SpendHoldReleaseApi.as_view(),
        name="partner-spend-hold-release",
    ),
]
