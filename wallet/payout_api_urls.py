"""API routes for payouts, spend codes (consumer) and partner spend holds; included by wallet/api_urls.py."""

from django.urls import path

from wallet import payout_apis, spend_partner_apis

urlpatterns = [
    path("payouts/", payout_apis.PayoutsApi.as_view(), name="api-payouts"),
    path("payouts/account/", payout_apis.PayoutAccountApi.as_view(), name="api-payouts-account"),
    path("spend-codes/", payout_apis.SpendCodesApi.as_view(), name="api-spend-codes"),
    path("partner/spend/holds/", spend_partner_apis.SpendHoldsApi.as_view(), name="partner-spend-holds"),
    path(
        "partner/spend/holds/<int:hold_id>/",
        spend_partner_apis.SpendHoldDetailApi.as_view(),
        name="partner-spend-hold",
    ),
    path(
        "partner/spend/holds/<int:hold_id>/capture/",
        spend_partner_apis.SpendHoldCaptureApi.as_view(),
        name="partner-spend-hold-capture",
    ),
    path(
        "partner/spend/holds/<int:hold_id>/release/",
        spend_partner_apis.SpendHoldReleaseApi.as_view(),
        name="partner-spend-hold-release",
    ),
]
