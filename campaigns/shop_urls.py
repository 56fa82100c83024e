"""The public shop pages, mounted at /shops/."""

from django.urls import path

from campaigns import shop_views

app_name = "shops"

urlpatterns = [
    path("", shop_views.shop_list, name="list"),
    path("map.json", shop_views.shop_markers, name="markers"),
    path("<slug:slug>/", shop_views.shop_detail, name="detail"),
]
