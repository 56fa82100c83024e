from django.urls import path

from programmes import apis, catalogue_apis

urlpatterns = [
    path("actions/", apis.ActionsApi.as_view(), name="api-actions"),
    path("catalogue/", catalogue_apis.CatalogueApi.as_view(), name="api-catalogue"),
    path("catalogue/<int:item_id>/", catalogue_apis.CatalogueItemApi.as_view(), name="api-catalogue-item"),
    path("catalogue/<int:item_id>/redeem/", catalogue_apis.CatalogueRedeemApi.as_view(), name="api-catalogue-redeem"),
    path("vouchers/", catalogue_apis.VouchersApi.as_view(), name="api-vouchers"),
    path("vouchers/<int:voucher_id>/code/", catalogue_apis.VoucherCodeSendApi.as_view(), name="api-voucher-code"),
    path("vouchers/<int:voucher_id>/claim/", catalogue_apis.VoucherClaimApi.as_view(), name="api-voucher-claim"),
]
