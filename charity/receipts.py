"""The donation receipt: a consumer's donations in one calendar year, as a PDF (WeasyPrint).

The figures come from ``charity.selectors.donation_receipt`` (the ledger); this module only lays
them out. Made on request, never stored: the ledger is the record, so the same request gives the
same figures.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML

from charity.selectors import DonationReceipt


def receipt_filename(receipt: DonationReceipt) -> str:
    return f"donation-receipt-{receipt.year}.pdf"


def receipt_pdf(receipt: DonationReceipt) -> bytes:
    """The receipt as PDF bytes."""
    html = render_to_string(
        "charity/receipt.html",
        {
            "receipt": receipt,
            "issued_at": timezone.localtime(),
            "site_url": settings.SITE_URL,
            "time_zone": settings.TIME_ZONE,
        },
    )
    # No base_url: the receipt uses no files, so WeasyPrint fetches nothing.
    return HTML(string=html).write_pdf()
