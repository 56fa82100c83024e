"""A statement's way out and back: the Stripe invoice (or the transfer), paid, failed, overdue.

Every Stripe call carries a key stored with the statement (``<ledger_key>:stripe-invoice``, each
line's key, ``:finalize``, ``:transfer``, and the customer's ``merchant:<id>:billing-customer``),
so a retry after a lost answer gets Stripe's first object. State changes are made under the
statement's row lock and are idempotent, whatever order Stripe's webhooks arrive in: ``invoice.paid``
before our finalisation returns marks it paid, and the finalisation then leaves it paid.

Overdue: unpaid ``BILLING_OVERDUE_GRACE_DAYS`` after the due date (the daily task), or marked
uncollectible in Stripe. It announces ``merchant_invoice_overdue``; campaigns pauses the merchant's
live offers. Paying an overdue invoice announces ``merchant_invoice_paid``; campaigns resumes them.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cashback.events import announce
from cashback.providers.stripe_gateway import StripeGatewayError, get_stripe_gateway
from merchants.billing_selectors import invoices_overdue_due
from merchants.models import Merchant, MerchantInvoice, StripeConnection
from merchants.services.audit import AuditAction, audit_record
from wallet.models import AccountKind, JournalKind
from wallet.services import account_get_or_create, platform_account, transaction_post, transfer

Status = MerchantInvoice.Status


def billing_customer_ensure(*, merchant: Merchant) -> str:
    """The merchant's Stripe customer on the platform's account, created once from its billing details."""
    if merchant.stripe_customer_id:
        return merchant.stripe_customer_id
    customer = get_stripe_gateway().customer_create(
        email=merchant.billing_email or merchant.contact_email,
        name=merchant.legal_name,
        idempotency_key=f"merchant:{merchant.pk}:billing-customer",
        metadata={"merchant_id": str(merchant.pk), "vat_number": merchant.vat_number},
    )
    Merchant.objects.filter(pk=merchant.pk, stripe_customer_id="").update(
        stripe_customer_id=customer["id"], updated_at=timezone.now()
    )
    merchant.stripe_customer_id = customer["id"]
    return merchant.stripe_customer_id


def invoice_send(*, invoice_id: int) -> MerchantInvoice:
    """Send a draft statement: the Stripe invoice (customer, items, finalised) or the transfer.

    Safe to run any number of times. A Stripe error is recorded on the row and raised (the task
    retries; the daily sweep sends drafts again).
    """
    invoice = MerchantInvoice.objects.select_related("merchant").get(pk=invoice_id)
    if invoice.status != Status.DRAFT:
        return invoice
    MerchantInvoice.objects.filter(pk=invoice.pk).update(stripe_attempts=invoice.stripe_attempts + 1)
    try:
        if invoice.is_transfer:
            return _transfer_send(invoice)
        return _stripe_invoice_send(invoice)
    except StripeGatewayError as error:
        MerchantInvoice.objects.filter(pk=invoice.pk).update(last_error=str(error)[:500], updated_at=timezone.now())
        raise


def _metadata(invoice: MerchantInvoice) -> dict[str, str]:
    # ``cashback_merchant_invoice`` tells our billing invoices apart from the merchants' own
    # invoices that earn their customers cashback (campaigns.stripe_source).
    return {
        "cashback_merchant_invoice": str(invoice.pk),
        "merchant_id": str(invoice.merchant_id),
        "period": f"{invoice.period:%Y-%m}",
    }


def _stripe_invoice_send(invoice: MerchantInvoice) -> MerchantInvoice:
    gateway = get_stripe_gateway()
    customer_id = billing_customer_ensure(merchant=invoice.merchant)
    draft = gateway.invoice_create(
        customer_id=customer_id,
        currency=invoice.currency,
        days_until_due=settings.BILLING_PAYMENT_TERMS_DAYS,
        idempotency_key=f"{invoice.ledger_key}:stripe-invoice",
        metadata=_metadata(invoice),
    )
    MerchantInvoice.objects.filter(pk=invoice.pk).update(stripe_invoice_id=draft["id"], updated_at=timezone.now())
    for line in invoice.lines.order_by("id"):
        if line.amount_minor == 0:
            continue
        gateway.invoice_item_create(
            customer_id=customer_id,
            invoice_id=draft["id"],
            amount_minor=line.amount_minor,
            currency=invoice.currency,
            description=line.description,
            idempotency_key=line.idempotency_key,
            metadata=_metadata(invoice),
        )
    final = gateway.invoice_finalize(invoice_id=draft["id"], idempotency_key=f"{invoice.ledger_key}:finalize")
    with transaction.atomic():
        locked = MerchantInvoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.status == Status.DRAFT:  # a webhook may have marked it paid or failed meanwhile
            locked.status = Status.OPEN
        locked.issued_at = locked.issued_at or timezone.now()
        locked.stripe_invoice_url = str(final.get("hosted_invoice_url") or "")[:500]
        locked.last_error = ""
        locked.save(update_fields=["status", "issued_at", "stripe_invoice_url", "last_error", "updated_at"])
    return locked


def _transfer_send(invoice: MerchantInvoice) -> MerchantInvoice:
    """The platform owes the merchant: a Stripe transfer to its connected account, then the ledger."""
    connection = StripeConnection.objects.filter(merchant_id=invoice.merchant_id).first()
    if connection is None or connection.status != StripeConnection.Status.ACTIVE:
        MerchantInvoice.objects.filter(pk=invoice.pk).update(
            last_error="No connected Stripe account to pay the merchant to.", updated_at=timezone.now()
        )
        return invoice
    result = get_stripe_gateway().transfer_create(
        amount_minor=-invoice.total_minor,
        currency=invoice.currency,
        destination=connection.stripe_account_id,
        idempotency_key=f"{invoice.ledger_key}:transfer",
        metadata=_metadata(invoice),
    )
    with transaction.atomic():
        locked = MerchantInvoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.status != Status.DRAFT:
            return locked
        _settle(locked, part="transfer")
        locked.status = Status.PAID
        locked.stripe_transfer_id = str(result["id"])[:64]
        locked.issued_at = locked.paid_at = timezone.now()
        locked.last_error = ""
        locked.save()
    return locked


def _settle(invoice: MerchantInvoice, *, part: str) -> None:
    """The month's part of the receivable back to zero: money in (payment) or out (transfer)."""
    receivable = account_get_or_create(
        kind=AccountKind.MERCHANT_RECEIVABLE, currency=invoice.currency, owner_key=f"merchant:{invoice.merchant_id}"
    )
    settlement = platform_account(kind=AccountKind.SETTLEMENT, currency=invoice.currency)
    inbound = invoice.total_minor > 0
    transaction_post(
        idempotency_key=f"{invoice.ledger_key}:{part}",
        kind=JournalKind.MERCHANT_SETTLEMENT,
        entries=transfer(
            debit=settlement if inbound else receivable,
            credit=receivable if inbound else settlement,
            amount=abs(invoice.total_minor),
        ),
        memo=f"{'Payment of' if inbound else 'Transfer for'} {invoice.number}",
        causes={"merchant_invoice": invoice.pk, "merchant": invoice.merchant_id},
    )


def _change(invoice: MerchantInvoice, *, to: str, **fields: object) -> None:
    was = invoice.status
    invoice.status = to
    for name, value in fields.items():
        setattr(invoice, name, value)
    invoice.save()
    audit_record(
        merchant=invoice.merchant,
        actor=None,
        action=AuditAction.INVOICE_STATUS_CHANGED,
        details={"invoice": invoice.number, "from": was, "to": to},
    )


def invoice_mark_paid(*, invoice_id: int, now: datetime | None = None) -> MerchantInvoice:
    """Stripe says the invoice is paid (in any state but void): the payment is booked once."""
    now = now or timezone.now()
    with transaction.atomic():
        invoice = MerchantInvoice.objects.select_for_update().select_related("merchant").get(pk=invoice_id)
        if invoice.status in (Status.PAID, Status.VOID) or invoice.is_transfer:
            return invoice
        was_overdue = invoice.status == Status.OVERDUE
        _settle(invoice, part="payment")
        _change(invoice, to=Status.PAID, paid_at=now)
        if was_overdue:
            announce("merchant_invoice_paid", merchant_id=invoice.merchant_id, invoice_id=invoice.pk)
    return invoice


def invoice_mark_payment_failed(*, invoice_id: int, now: datetime | None = None) -> MerchantInvoice:
    """A payment attempt failed: open (or not yet finalised) → payment_failed; later states stay."""
    with transaction.atomic():
        invoice = MerchantInvoice.objects.select_for_update().select_related("merchant").get(pk=invoice_id)
        if invoice.status not in (Status.DRAFT, Status.OPEN):
            return invoice
        _change(invoice, to=Status.PAYMENT_FAILED, payment_failed_at=now or timezone.now())
    return invoice


def invoice_mark_overdue(*, invoice_id: int, now: datetime | None = None) -> MerchantInvoice:
    """Unpaid past the grace period (or uncollectible): overdue, and the merchant's offers pause."""
    with transaction.atomic():
        invoice = MerchantInvoice.objects.select_for_update().select_related("merchant").get(pk=invoice_id)
        if invoice.status not in (Status.DRAFT, Status.OPEN, Status.PAYMENT_FAILED) or invoice.is_transfer:
            return invoice
        _change(invoice, to=Status.OVERDUE, overdue_at=now or timezone.now())
        announce(
            "merchant_invoice_overdue",
            merchant_id=invoice.merchant_id,
            invoice_id=invoice.pk,
            invoice_number=invoice.number,
        )
    return invoice


def invoices_mark_overdue_due(*, today: date | None = None) -> int:
    """The daily sweep: every invoice past its due date plus the grace period becomes overdue."""
    today = today or timezone.localdate()
    ids = invoices_overdue_due(today=today)
    for invoice_id in ids:
        invoice_mark_overdue(invoice_id=invoice_id)
    return len(ids)
