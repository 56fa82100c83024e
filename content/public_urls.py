"""Public pages that read content (included at the root; names kept from the static pages they replace)."""

from django.urls import path

from content import public_views

urlpatterns = [
    path("how-it-works/", public_views.how_it_works, name="how_it_works"),
    path("faq/", public_views.faq, name="faq"),
    path("terms/", public_views.terms, name="terms"),
    path("pages/<slug:slug>/", public_views.page_detail, name="content_page"),
]
