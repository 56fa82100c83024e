"""Stripe's word on the platform's invoices to merchants (source ``stripe``: the platform's own account).

``invoice.paid``, ``invoice.payment_failed`` and ``invoice.marked_uncollectible`` carry our
``metadata.cashback_merchant_invoice`` (the statement's id); an invoice without it is not ours to
bill (merchants' own invoices arrive from their connected accounts, source ``stripe_connect``, and
earn their customers cashback in campaigns.stripe_source) and is ignored.
"""

from collections.abc import Mapping
from typing import Any

from cashback.inbox import Ignored, register
from cashback.models import WebhookEvent
from merchants.models import MerchantInvoice
from merchants.services import billing_payments

METADATA_KEY = "cashback_merchant_invoice"


def register_handlers() -> None:
    register(source="stripe", event_type="invoice.paid", handler=invoice_paid)
    register(source="stripe", event_type="invoice.payment_failed", handler=invoice_payment_failed)
    register(source="stripe", event_type="invoice.marked_uncollectible", handler=invoice_marked_uncollectible)


def _invoice(event: WebhookEvent) -> MerchantInvoice:
    payload: Any = event.payload
    data = payload.get("data") if isinstance(payload, Mapping) else None
    obj = data.get("object") if isinstance(data, Mapping) else None
    metadata = obj.get("metadata") if isinstance(obj, Mapping) else None
    reference = metadata.get(METADATA_KEY) if isinstance(metadata, Mapping) else None
    if not isinstance(reference, str) or not reference.isdigit():
        raise Ignored("Not an invoice of the platform to a merchant (no cashback_merchant_invoice).")
    invoice = MerchantInvoice.objects.filter(pk=int(reference)).first()
    if invoice is None:
        raise Ignored(f"No merchant invoice {reference}.")
    stripe_id = obj.get("id") if isinstance(obj, Mapping) else None
    if invoice.stripe_invoice_id and stripe_id != invoice.stripe_invoice_id:
        raise Ignored(f"Stripe invoice {stripe_id} is not the one of merchant invoice {reference}.")
    return invoice


def invoice_paid(event: WebhookEvent) -> None:
    billing_payments.invoice_mark_paid(invoice_id=_invoice(event).pk)


def invoice_payment_failed(event: WebhookEvent) -> None:
    billing_payments.invoice_mark_payment_failed(invoice_id=_invoice(event).pk)


def invoice_marked_uncollectible(event: WebhookEvent) -> None:
    billing_payments.invoice_mark_overdue(invoice_id=_invoice(event).pk)
