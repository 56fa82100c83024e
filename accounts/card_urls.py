"""The web wallet's card pages, mounted at /wallet/cards/."""

from django.urls import path

from accounts import views

app_name = "cards"

urlpatterns = [
    path("", views.cards, name="list"),
    path("<int:card_id>/remove/", views.card_remove, name="remove"),
]
