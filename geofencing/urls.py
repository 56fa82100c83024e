"""The wallet's offers page, included at /wallet/offers/."""

from django.urls import path

from geofencing import views

app_name = "nearby"

urlpatterns = [
    path("", views.nearby, name="offers"),
]
