"""The monthly statement as a PDF (WeasyPrint), made on request from the stored invoice row."""

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML

from merchants.models import MerchantInvoice


def statement_filename(invoice: MerchantInvoice) -> str:
    return f"statement-{invoice.number}.pdf"


def statement_pdf(invoice: MerchantInvoice) -> bytes:
    html = render_to_string(
        "merchants/billing/statement.html",
        {
            "invoice": invoice,
            "merchant": invoice.merchant,
            "lines": list(invoice.lines.all()),
            "site_url": settings.SITE_URL,
        },
    )
    # No base_url: the statement uses no files, so WeasyPrint fetches nothing.
    return HTML(string=html).write_pdf()
