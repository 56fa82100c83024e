"""Statement pages, included in the wallet's URLs (namespace ``wallet``)."""

from django.urls import path

from wallet import statement_views

urlpatterns = [
    path("statements/", statement_views.statement_list, name="statements"),
    path("statements/download/", statement_views.statement_download, name="statement_download"),
]
