from django.urls import path

from programmes import source_views

app_name = "my_programmes"

urlpatterns = [
    path("", source_views.my_contracts, name="contracts"),
    path("<int:contract_id>/", source_views.my_contract, name="contract"),
]
