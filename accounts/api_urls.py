from django.urls import path

from accounts import apis, device_apis, privacy_apis

urlpatterns = [
    path("me/", apis.MeApi.as_view(), name="api-me"),
    path("me/export/", privacy_apis.DataExportApi.as_view(), name="api-me-export"),
    path(
        "me/export/<int:export_id>/download/",
        privacy_apis.DataExportDownloadApi.as_view(),
        name="api-me-export-download",
    ),
    path("cards/", apis.CardsApi.as_view(), name="api-cards"),
    path("cards/<int:card_id>/", apis.CardDetailApi.as_view(), name="api-card-detail"),
    path("devices/", device_apis.DevicesApi.as_view(), name="api-devices"),
]
