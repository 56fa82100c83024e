"""``/i18n/setlang/``: the language switcher's form posts here (accounts.views.set_language)."""

from django.urls import path

from accounts import views

urlpatterns = [path("setlang/", views.set_language, name="set_language")]
