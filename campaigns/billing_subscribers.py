"""Subscribers of the merchants' billing facts: an overdue merchant's offers pause, and resume once paid.

Both are idempotent (a paused offer is not paused again; only offers whose last change is the
billing pause resume), so a retried delivery is harmless.
"""

from campaigns.services.offers import offers_pause_for_overdue_invoice, offers_resume_after_invoice_paid


def pause_offers_on_invoice_overdue(*, merchant_id: int, invoice_id: int, invoice_number: str) -> None:
    offers_pause_for_overdue_invoice(merchant_id=merchant_id, invoice_number=invoice_number)


def resume_offers_on_invoice_paid(*, merchant_id: int, invoice_id: int) -> None:
    offers_resume_after_invoice_paid(merchant_id=merchant_id)
