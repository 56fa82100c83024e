"""The merchant portal, mounted at /portal/ (campaigns adds /portal/<merchant_id>/offers/)."""

from django.urls import path

from merchants import billing_views, views

app_name = "merchants"

urlpatterns = [
    path("", views.portal, name="portal"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("<int:merchant_id>/", views.dashboard, name="dashboard"),
    path("<int:merchant_id>/locations/", views.location_list, name="locations"),
    path("<int:merchant_id>/locations/new/", views.location_create, name="location_create"),
    path("<int:merchant_id>/locations/<int:location_id>/", views.location_detail, name="location_detail"),
    path("<int:merchant_id>/locations/<int:location_id>/edit/", views.location_edit, name="location_edit"),
    path("<int:merchant_id>/locations/<int:location_id>/delete/", views.location_delete, name="location_delete"),
    path("<int:merchant_id>/team/", views.team, name="team"),
    path("<int:merchant_id>/team/invite/", views.team_invite, name="team_invite"),
    path("<int:merchant_id>/team/<int:membership_id>/", views.member_edit, name="member_edit"),
    path("<int:merchant_id>/team/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path(
        "<int:merchant_id>/team/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("<int:merchant_id>/activity/", views.activity, name="activity"),
    path("<int:merchant_id>/settings/", views.merchant_settings, name="settings"),
    path("<int:merchant_id>/api-keys/", views.api_keys, name="api_keys"),
    path("<int:merchant_id>/api-keys/new/", views.api_key_create, name="api_key_create"),
    path("<int:merchant_id>/api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("<int:merchant_id>/billing/", billing_views.billing, name="billing"),
    path("<int:merchant_id>/billing/details/", billing_views.billing_details, name="billing_details"),
    path(
        "<int:merchant_id>/billing/invoices/<int:invoice_id>/statement.pdf",
        billing_views.invoice_pdf,
        name="invoice_pdf",
    ),
    path("<int:merchant_id>/stripe/", views.stripe_connection, name="stripe"),
    path("<int:merchant_id>/stripe/return/", views.stripe_return, name="stripe_return"),
    path("<int:merchant_id>/stripe/refresh/", views.stripe_refresh, name="stripe_refresh"),
    path("<int:merchant_id>/stripe/disconnect/", views.stripe_disconnect, name="stripe_disconnect"),
]
