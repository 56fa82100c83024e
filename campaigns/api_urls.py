from django.urls import path

from campaigns import apis, merchant_apis, progress_apis

urlpatterns = [
    path("purchases/", apis.PurchasesApi.as_view(), name="api-purchases"),
    path("purchases/<int:purchase_id>/", apis.PurchaseDetailApi.as_view(), name="api-purchase-detail"),
    path("challenges/", progress_apis.ChallengesApi.as_view(), name="api-challenges"),
    path("me/tier/", progress_apis.MyTierApi.as_view(), name="api-me-tier"),
    path("merchants/", merchant_apis.MerchantListApi.as_view(), name="api-merchants"),
    path("merchants/<int:merchant_id>/", merchant_apis.MerchantDetailApi.as_view(), name="api-merchant-detail"),
]
