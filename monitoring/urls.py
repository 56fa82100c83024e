"""Transaction monitoring's staff pages, mounted at /staff/monitoring/."""

from django.urls import path

from monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("", views.purchase_search, name="purchase_search"),
    path("flags/", views.flag_list, name="flag_list"),
    path("flags/<int:flag_id>/", views.flag_detail, name="flag_detail"),
    path("flags/<int:flag_id>/hold/", views.flag_hold, name="flag_hold"),
    path("flags/<int:flag_id>/clear/", views.flag_clear, name="flag_clear"),
    path("flags/<int:flag_id>/escalate/", views.flag_escalate, name="flag_escalate"),
]
