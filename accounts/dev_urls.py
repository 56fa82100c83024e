"""The fake card network's development pages, mounted at /dev/card-network/ (404 unless fake)."""

from django.urls import path

from accounts import dev_card_network

app_name = "dev_card_network"

urlpatterns = [
    path("enrol/", dev_card_network.enrol, name="enrol"),
]
