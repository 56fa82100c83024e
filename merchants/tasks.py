"""Celery entry points of merchants: each calls one service and is safe to run twice."""

from celery import shared_task
from django.utils import timezone

from cashback.providers.stripe_gateway import StripeGatewayError
from merchants.billing_selectors import invoices_unsent, previous_month
from merchants.idempotency import partner_requests_purge
from merchants.services import billing_payments
from merchants.services.billing_invoices import invoices_close_month


@shared_task
def partner_requests_purge_old() -> int:
    """Forget partner API responses stored for Idempotency-Key replays past the retention period."""
    return partner_requests_purge()


# --- Billing (docs/billing.md) ------------------------------------------------------------------


@shared_task
def invoices_monthly() -> list[int]:
    """On the 1st: the previous month's statements (once, however often it runs)."""
    return invoices_close_month(period=previous_month(timezone.localdate()))


@shared_task(autoretry_for=(Exception,), retry_backoff=60, max_retries=5)
def invoice_send(invoice_id: int) -> str:
    return billing_payments.invoice_send(invoice_id=invoice_id).status


@shared_task
def invoices_daily() -> int:
    """Daily: drafts sent again (a lost task, a merchant not yet connected), overdue invoices marked."""
    for invoice_id in invoices_unsent():
        try:
            billing_payments.invoice_send(invoice_id=invoice_id)
        except StripeGatewayError:  # recorded on the row (last_error); the others still go
            continue
    return billing_payments.invoices_mark_overdue_due()
