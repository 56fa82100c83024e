from django.urls import path

from accounts import invitation_views, privacy_views, views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("privacy/", privacy_views.privacy, name="privacy"),
    path("privacy/export/", privacy_views.export_start, name="privacy_export_start"),
    path("privacy/export/status/", privacy_views.export_status, name="privacy_export_status"),
    path("privacy/export/<int:export_id>/download/", privacy_views.export_download, name="privacy_export_download"),
    path("privacy/close/", privacy_views.close_account, name="privacy_close"),
    path("privacy/closed/", privacy_views.closed, name="closed"),
    path("invitation/<str:token>/", invitation_views.invitation_accept, name="invitation_accept"),
]
