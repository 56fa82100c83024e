"""Stripe as a purchase source (F-T2): connecting the merchant's account, and refund totals per charge."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, NamedTuple

from django.db import transaction
from django.utils import timezone

from cashback.providers.stripe_gateway import get_stripe_gateway
from merchants.models import (
    Merchant,
    StripeChargeRefundTotal,
    StripeConnection,
    StripeInvoicePayment,
)
from merchants.services.audit import AuditAction, audit_record
from merchants.services.locks import merchant_lock

if TYPE_CHECKING:
    from accounts.models import User

# --- Stripe as a purchase source (F-T2) ---------------------------------------------------------


def stripe_refund_delta(*, merchant: Merchant, charge_id: str, amount_refunded_minor: int) -> int:
    """What is newly refunded on a charge whose cumulative ``amount_refunded`` is now given; records
    it. 0 for a duplicate or an older (out-of-order) event. Call inside the transaction that applies
    the refund: the row lock makes concurrent events for one charge take turns."""
    with transaction.atomic():
        StripeChargeRefundTotal.objects.bulk_create(
            [StripeChargeRefundTotal(merchant=merchant, charge_id=charge_id)], ignore_conflicts=True
        )
        total = StripeChargeRefundTotal.objects.select_for_update().get(charge_id=charge_id)
        delta = max(0, amount_refunded_minor - total.refunded_minor)
        if delta:
            total.refunded_minor = amount_refunded_minor
            total.save(update_fields=["refunded_minor", "updated_at"])
    return delta


class InvoicePaymentClaim(NamedTuple):
    """The outcome of claiming a payment for an invoice or for its own charge."""

    invoice_id: str  # the invoice it pays, when known
    charge_id: str  # the charge already counted as a purchase of its own, when one was


def stripe_payment_claim_for_charge(*, merchant: Merchant, payment_ref: str, charge_id: str) -> InvoicePaymentClaim:
    """``charge.succeeded`` on an API version without ``charge.invoice``: may the charge count as a
    purchase of its own? Only if no invoice is known to be paid by it; the charge is then recorded,
    so an invoice that later names the payment reverses it. Locks the payment's row (call inside the
    transaction that applies the charge)."""
    with transaction.atomic():
        row = _payment_row(merchant=merchant, payment_ref=payment_ref)
        if not row.invoice_id and not row.charge_id:
            row.charge_id = charge_id
            row.save(update_fields=["charge_id", "updated_at"])
            return InvoicePaymentClaim(invoice_id="", charge_id="")
        return InvoicePaymentClaim(invoice_id=row.invoice_id, charge_id=row.charge_id)


def stripe_payment_claim_for_invoice(*, merchant: Merchant, payment_ref: str, invoice_id: str) -> InvoicePaymentClaim:
    """An invoice names a payment (``invoice_payment.paid`` or its expanded ``payments``): records it
    and returns the charge already counted on its own (to be reversed), if any. Locks the row."""
    with transaction.atomic():
        row = _payment_row(merchant=merchant, payment_ref=payment_ref)
        if row.invoice_id != invoice_id:
            row.invoice_id = invoice_id
            row.save(update_fields=["invoice_id", "updated_at"])
        return InvoicePaymentClaim(invoice_id=invoice_id, charge_id=row.charge_id)


def _payment_row(*, merchant: Merchant, payment_ref: str) -> StripeInvoicePayment:
    StripeInvoicePayment.objects.bulk_create(
        [StripeInvoicePayment(merchant=merchant, payment_ref=payment_ref)], ignore_conflicts=True
    )
    return StripeInvoicePayment.objects.select_for_update().get(payment_ref=payment_ref)


def stripe_connect_start(*, merchant: Merchant, actor: User, refresh_url: str, return_url: str) -> str:
    """Start (or resume) connecting the merchant's Stripe account; returns Stripe's onboarding URL.

    The Express account is created once (its idempotency key is derived from the merchant, so a
    retry after a lost response gets the same account) and stored before the link is handed out,
    so events from the account always find the merchant. Reconnecting after a disconnect reuses it.
    """
    gateway = get_stripe_gateway()
    connection = StripeConnection.objects.filter(merchant=merchant).first()
    if connection is None:
        account_id = gateway.connected_account_create(
            email=merchant.contact_email,
            country=merchant.country,
            business_type="company",
            idempotency_key=f"merchant:{merchant.pk}:stripe-connect",
            metadata={"merchant_id": str(merchant.pk), "purpose": "purchases"},
        )
        with transaction.atomic():
            merchant_lock(merchant)  # two owners clicking at once store one connection
            connection, _ = StripeConnection.objects.get_or_create(
                merchant=merchant,
                defaults={
                    "stripe_account_id": account_id,
                    "connected_by": actor if getattr(actor, "is_authenticated", False) else None,
                },
            )
    elif connection.status == StripeConnection.Status.DISCONNECTED:
        StripeConnection.objects.filter(pk=connection.pk).update(
            status=StripeConnection.Status.ONBOARDING, disconnected_at=None, updated_at=timezone.now()
        )
    # An account link is single-use and short-lived, so each click needs a new one: the key is per
    # request, and makes the SDK's own network retries of this call return the same link.
    return gateway.account_link_create(
        account_id=connection.stripe_account_id,
        refresh_url=refresh_url,
        return_url=return_url,
        idempotency_key=f"merchant:{merchant.pk}:stripe-link:{uuid.uuid4().hex}",
    )


def stripe_connection_refresh(*, merchant: Merchant, actor: User | None = None) -> StripeConnection | None:
    """Read the account's state from Stripe; once its details are submitted it is connected (audited)."""
    connection = StripeConnection.objects.filter(merchant=merchant).first()
    if connection is None or connection.status == StripeConnection.Status.DISCONNECTED:
        return connection
    account = get_stripe_gateway().account_retrieve(account_id=connection.stripe_account_id)
    with transaction.atomic():
        connection = StripeConnection.objects.select_for_update().get(pk=connection.pk)
        connection.charges_enabled = bool(account.get("charges_enabled"))
        connection.details_submitted = bool(account.get("details_submitted"))
        newly_connected = connection.details_submitted and connection.status == StripeConnection.Status.ONBOARDING
        if newly_connected:
            connection.status = StripeConnection.Status.ACTIVE
            connection.connected_at = timezone.now()
        connection.save()
        if newly_connected:
            audit_record(
                merchant=merchant,
                actor=actor,
                action=AuditAction.STRIPE_CONNECTED,
                details={"stripe_account_id": connection.stripe_account_id},
            )
    return connection


def stripe_disconnect(*, merchant: Merchant, actor: User) -> StripeConnection | None:
    """Stop turning the account's payments into purchases (refunds of earlier ones still count)."""
    with transaction.atomic():
        connection = StripeConnection.objects.select_for_update().filter(merchant=merchant).first()
        if connection is None or connection.status == StripeConnection.Status.DISCONNECTED:
            return connection
        connection.status = StripeConnection.Status.DISCONNECTED
        connection.disconnected_at = timezone.now()
        connection.save(update_fields=["status", "disconnected_at", "updated_at"])
        audit_record(
            merchant=merchant,
            actor=actor,
            action=AuditAction.STRIPE_DISCONNECTED,
            details={"stripe_account_id": connection.stripe_account_id},
        )
    return connection
