from django.urls import path

from wallet import apis

urlpatterns = [
    path("wallet/", apis.WalletApi.as_view(), name="api-wallet"),
    path("wallet/entries/", apis.WalletEntriesApi.as_view(), name="api-wallet-entries"),
]
