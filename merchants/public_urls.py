"""The partner sign-up, mounted at /partners/."""

from django.urls import path

from merchants import views

app_name = "partners"

urlpatterns = [
    path("", views.partners_index, name="index"),
    path("apply/", views.partners_apply, name="apply"),
    path("applications/<int:merchant_id>/", views.partners_application, name="application"),
]
