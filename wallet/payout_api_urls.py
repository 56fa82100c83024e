"""API routes for payouts and spend codes (consumer); included by wallet/api_urls.py. Partners' spend
holds are in merchants.partner_urls."""

from django.urls import path

from wallet import payout_apis

urlpatterns = [
    path("payouts/", payout_apis.PayoutsApi.as_view(), name="api-payouts"),
    path("payouts/account/", payout_apis.PayoutAccountApi.as_view(), name="api-payouts-account"),
    path("spend-codes/", payout_apis.SpendCodesApi.as_view(), name="api-spend-codes"),
]
