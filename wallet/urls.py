from django.urls import include, path

from wallet import views

app_name = "wallet"

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("wallet.payout_urls")),  # payouts/, spend/
    path("", include("wallet.statement_urls")),  # statements/
]
