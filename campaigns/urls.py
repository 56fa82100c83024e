"""Offer pages of the merchant portal, mounted at /portal/<merchant_id>/offers/."""

from django.urls import path

from campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("", views.offer_list, name="list"),
    path("new/", views.offer_create, name="create"),
    path("cost-preview/", views.cost_preview, name="cost_preview"),
    path("<int:offer_id>/", views.offer_detail, name="detail"),
    path("<int:offer_id>/edit/", views.offer_edit, name="edit"),
    path("<int:offer_id>/preview/", views.offer_preview, name="preview"),
    path("<int:offer_id>/duplicate/", views.offer_duplicate, name="duplicate"),
    path("<int:offer_id>/submit/", views.offer_submit, name="submit"),
    path("<int:offer_id>/pause/", views.offer_pause, name="pause"),
    path("<int:offer_id>/resume/", views.offer_resume, name="resume"),
    path("<int:offer_id>/line-rules/new/", views.line_rule_create, name="line_rule_create"),
    path("<int:offer_id>/line-rules/<int:rule_id>/delete/", views.line_rule_delete, name="line_rule_delete"),
    path("challenges/new/", views.challenge_create, name="challenge_create"),
    path("challenges/<int:challenge_id>/edit/", views.challenge_edit, name="challenge_edit"),
    path("challenges/<int:challenge_id>/delete/", views.challenge_delete, name="challenge_delete"),
]
