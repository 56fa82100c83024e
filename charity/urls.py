"""The charity pages, included once at the site root: public (/charities/), the wallet's giving pages
(/wallet/giving/) and the staff pages (/staff/charities/)."""

from django.urls import path

from charity import staff_views, views

app_name = "charity"

urlpatterns = [
    path("charities/", views.charity_list, name="list"),
    path("charities/<slug:slug>/", views.charity_detail, name="detail"),
    path("wallet/giving/", views.giving, name="giving"),
    path("wallet/giving/auto-donate/", views.auto_donate, name="auto_donate"),
    path("wallet/giving/donate/<slug:slug>/", views.donate, name="donate"),
    path("wallet/giving/receipts/<int:year>/", views.receipt, name="receipt"),
    path("staff/charities/", staff_views.charity_list, name="staff_list"),
    path("staff/charities/new/", staff_views.charity_create, name="staff_create"),
    path("staff/charities/<int:charity_id>/", staff_views.charity_detail, name="staff_detail"),
    path("staff/charities/disbursements/", staff_views.disbursement_list, name="staff_disbursements"),
    path(
        "staff/charities/disbursements/<int:disbursement_id>/send/",
        staff_views.disbursement_send,
        name="staff_disbursement_send",
    ),
]
