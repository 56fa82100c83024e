from django.urls import include, path

from wallet import apis
from wallet.statement_apis import StatementsApi

urlpatterns = [
    path("wallet/", apis.WalletApi.as_view(), name="api-wallet"),
    path("wallet/entries/", apis.WalletEntriesApi.as_view(), name="api-wallet-entries"),
    path("wallet/statements/", StatementsApi.as_view(), name="api-wallet-statements"),
    path("", include("wallet.payout_api_urls")),  # payouts/, spend-codes/
]
