"""Domain errors of the merchant reports."""

from cashback.errors import DomainError


class ReportExportNotFoundError(DomainError):
    code = "report_export_not_found"
    http_status = 404
    default_message = "No such report export."


class ReportExportExpiredError(DomainError):
    code = "report_export_expired"
    http_status = 410
    default_message = "This file has expired and was deleted. Prepare the report again to download it."


class ReportExportNotReadyError(DomainError):
    code = "report_export_not_ready"
    http_status = 409
    default_message = "The report is still being prepared. Try again in a moment."


class ReportTooLargeError(DomainError):
    code = "report_too_large"
    http_status = 400
    default_message = "Too many rows for a PDF: narrow the filters or download the CSV."
