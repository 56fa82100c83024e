"""Stripe as a purchase source (F-T2): connecting the merchant's account, and refund totals per charge."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from cashback.providers.stripe_gateway import get_stripe_gateway
from merchants.models import (
    Merchant,
    StripeChargeRefundTotal,
    StripeConnection,
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
    return gateway.account_link_create(
        account_id=connection.stripe_account_id, refresh_url=refresh_url, return_url=return_url
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
