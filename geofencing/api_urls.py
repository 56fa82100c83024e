from django.urls import path

from geofencing import apis, geofence_apis

urlpatterns = [
    path("offers/", apis.NearbyOffersApi.as_view(), name="api-offers"),
    path("geofence/", geofence_apis.GeofenceApi.as_view(), name="api-geofence"),
]
