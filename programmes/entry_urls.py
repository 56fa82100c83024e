from django.urls import path

from programmes import views

app_name = "programmes_entry"

urlpatterns = [path("", views.entry, name="entry")]
