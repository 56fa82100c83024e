from django.urls import path

from campaigns import progress_views

app_name = "challenges"

urlpatterns = [
    path("", progress_views.challenge_list, name="list"),
]
