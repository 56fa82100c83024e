"""Domain errors of the merchant reports."""

from django.utils.translation import gettext_lazy

from cashback.errors import DomainError


class ReportExportNotFoundError(DomainError):
    code = "report_export_not_found"
    http_status = 404
    default_message = gettext_lazy("No such report export.")


class ReportExportExpiredError(DomainError):
    code = "report_export_expired"
    http_status = 410
    default_message = gettext_lazy("This file has expired and was deleted. Prepare the report again to download it.")


class ReportExportNotReadyError(DomainError):
    code = "report_export_not_ready"
    http_status = 409
    default_message = gettext_lazy("The report is still being prepared. Try again in a moment.")


class ReportTooLargeError(DomainError):
    code = "report_too_large"
    http_status = 400
    default_message = gettext_lazy("Too many rows for a PDF: narrow the filters or download the CSV.")
