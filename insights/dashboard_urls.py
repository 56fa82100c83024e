"""The insights pages, mounted at /portal/<merchant_id>/insights/ (cashback/urls.py)."""

from django.urls import path

from insights import views

app_name = "insights"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("offers/<int:offer_id>/", views.offer_results, name="offer"),
]
