"""Web wallet pages for payouts and spend codes, included by wallet/urls.py (namespace ``wallet``)."""

from django.urls import path

from wallet import payout_views

urlpatterns = [
    path("payouts/", payout_views.payouts_page, name="payouts"),
    path("payouts/setup/", payout_views.payouts_setup, name="payouts-setup"),
    path("payouts/setup/return/", payout_views.payouts_setup_return, name="payouts-setup-return"),
    path("payouts/setup/refresh/", payout_views.payouts_setup_refresh, name="payouts-setup-refresh"),
    # Stripe sends the app's consumers back here: no cookie, the link is signed (wallet/payout_app_links.py).
    path("payouts/setup/app/<str:token>/return/", payout_views.payouts_app_return, name="payouts-app-return"),
    path("payouts/setup/app/<str:token>/refresh/", payout_views.payouts_app_refresh, name="payouts-app-refresh"),
    path("spend/", payout_views.spend_page, name="spend"),
]
