from django.urls import path

from programmes import catalogue_admin_views as views

app_name = "catalogue_admin"

urlpatterns = [
    path("", views.items, name="items"),
    path("new/", views.item_create, name="item_create"),
    path("<int:item_id>/", views.item_edit, name="item_edit"),
    path("<int:item_id>/codes/", views.item_codes, name="codes"),
    path("<int:item_id>/codes/upload/", views.codes_upload, name="codes_upload"),
    path("<int:item_id>/codes/generate/", views.codes_generate, name="codes_generate"),
    path("batches/<int:batch_id>/activate/", views.batch_activate, name="batch_activate"),
    path("batches/<int:batch_id>/void/", views.batch_void, name="batch_void"),
    path("codes/<int:code_id>/void/", views.code_void, name="code_void"),
]
