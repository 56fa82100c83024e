from django.urls import path

from referrals import apis

urlpatterns = [
    path("referrals/", apis.ReferralsApi.as_view(), name="api-referrals"),
    path("referrals/claim/", apis.ReferralClaimApi.as_view(), name="api-referrals-claim"),
    path("referrals/businesses/", apis.BusinessReferralsApi.as_view(), name="api-referrals-businesses"),
]
