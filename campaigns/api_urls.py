from django.urls import path

from campaigns import apis

urlpatterns = [
    path("purchases/", apis.PurchasesApi.as_view(), name="api-purchases"),
    path("purchases/<int:purchase_id>/", apis.PurchaseDetailApi.as_view(), name="api-purchase-detail"),
]
