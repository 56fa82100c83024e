"""Staff review of offers, mounted at /staff/offers/."""

from django.urls import path

from campaigns import staff_views

app_name = "campaigns_staff"

urlpatterns = [
    path("", staff_views.review_queue, name="queue"),
    path("<int:offer_id>/", staff_views.review, name="review"),
    path("<int:offer_id>/decide/", staff_views.decide, name="decide"),
]
