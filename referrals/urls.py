"""The referral pages, included at the site root: /r/<code>/, /wallet/referrals/, /staff/referrals/."""

from django.urls import include, path

from referrals import views

staff_patterns = [
    path("", views.staff_queue, name="queue"),
    path("program/", views.staff_program, name="program"),
    path("<int:referral_id>/", views.staff_review, name="review"),
    path("<int:referral_id>/decide/", views.staff_decide, name="decide"),
]

referral_patterns = [
    path("r/<str:code>/", views.referral_link, name="link"),
    path("wallet/referrals/", views.wallet_referrals, name="wallet"),
    path("wallet/referrals/businesses/", views.business_submit, name="business_submit"),
]

urlpatterns = [
    path("", include((referral_patterns, "referrals"))),
    path("staff/referrals/", include((staff_patterns, "referrals_staff"))),
]
