from django.urls import path

from programmes import catalogue_views as views

app_name = "catalogue"

urlpatterns = [
    path("", views.browse, name="browse"),
    path("<int:item_id>/", views.item_detail, name="item"),
    path("<int:item_id>/image/", views.item_image, name="image"),
    path("<int:item_id>/redeem/", views.redeem, name="redeem"),
    path("vouchers/", views.voucher_list, name="vouchers"),
    path("vouchers/<int:voucher_id>/", views.voucher_detail, name="voucher"),
    path("vouchers/<int:voucher_id>/send-code/", views.voucher_send_code, name="voucher_send_code"),
]
