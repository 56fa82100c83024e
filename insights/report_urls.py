"""The merchant's reports, mounted at /portal/<merchant_id>/reports/ (docs/reports.md)."""

from django.urls import path

from insights import report_views

app_name = "reports"

urlpatterns = [
    path("", report_views.reports, name="index"),
    path("export/", report_views.export, name="export"),
    path("exports/<int:export_id>/status/", report_views.export_status, name="export_status"),
    path("exports/<int:export_id>/download/", report_views.export_download, name="export_download"),
]
