from django.urls import path

from geofencing import apis

urlpatterns = [
    path("offers/", apis.NearbyOffersApi.as_view(), name="api-offers"),
]
