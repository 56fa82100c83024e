from django.urls import path

from accounts import apis

urlpatterns = [
    path("me/", apis.MeApi.as_view(), name="api-me"),
    path("cards/", apis.CardsApi.as_view(), name="api-cards"),
    path("cards/<int:card_id>/", apis.CardDetailApi.as_view(), name="api-card-detail"),
]
