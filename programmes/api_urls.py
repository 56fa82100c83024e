from django.urls import path

from programmes import apis

urlpatterns = [path("actions/", apis.ActionsApi.as_view(), name="api-actions")]
