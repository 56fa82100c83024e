"""/staff/content/: marketing's pages, FAQ entries and banners (kind: pages, faq, banners)."""

from django.urls import path

from content import staff_views

app_name = "content_staff"

urlpatterns = [
    path("", staff_views.index, name="index"),
    path("<slug:kind_slug>/new/", staff_views.create, name="create"),
    path("<slug:kind_slug>/<int:item_id>/", staff_views.edit, name="edit"),
    path("<slug:kind_slug>/<int:item_id>/preview/", staff_views.preview, name="preview"),
    path("<slug:kind_slug>/<int:item_id>/publish/", staff_views.publish, name="publish"),
    path("<slug:kind_slug>/<int:item_id>/withdraw/", staff_views.withdraw, name="withdraw"),
    path("<slug:kind_slug>/<int:item_id>/history/", staff_views.history, name="history"),
    path("<slug:kind_slug>/<int:item_id>/history/<int:number>/", staff_views.version_detail, name="version"),
    path("<slug:kind_slug>/<int:item_id>/history/<int:number>/restore/", staff_views.restore, name="restore"),
]
