from django.urls import path

from campaigns import consumer_views

app_name = "purchases"

urlpatterns = [
    path("", consumer_views.purchase_list, name="list"),
    path("<int:purchase_id>/", consumer_views.purchase_detail, name="detail"),
]
