from django.urls import path

from charity import apis

urlpatterns = [
    path("charities/", apis.CharityListApi.as_view(), name="api-charities"),
    path("charities/<int:charity_id>/", apis.CharityDetailApi.as_view(), name="api-charity"),
    path("donations/", apis.DonationListCreateApi.as_view(), name="api-donations"),
    path("donations/receipts/<int:year>/", apis.DonationReceiptApi.as_view(), name="api-donation-receipt"),
    path("auto-donate/", apis.AutoDonateApi.as_view(), name="api-auto-donate"),
]
