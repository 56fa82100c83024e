"""The staff page for payouts held for review, mounted at /staff/payouts/."""

from django.urls import path

from wallet import payout_views

app_name = "payouts_staff"

urlpatterns = [
    path("", payout_views.staff_payouts, name="list"),
    path("failed/", payout_views.staff_payouts_failed, name="failed"),
    path("<int:payout_id>/release/", payout_views.staff_payout_release, name="release"),
    path("<int:payout_id>/reject/", payout_views.staff_payout_reject, name="reject"),
]
