from django.urls import path

from programmes import wallet_views

app_name = "actions"

urlpatterns = [path("", wallet_views.actions_log, name="log")]
