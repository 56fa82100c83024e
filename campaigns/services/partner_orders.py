"""Partner orders (F-T3): a merchant's web shop or till reports orders and their refunds through
the partner API; each becomes events of the purchase ``(partner, "<merchant id>:<order id>")``
through ``purchase_event_apply``, so offers and line-item rules apply as for card purchases.

Ids: a merchant's order ``<order_id>`` is the purchase ``partner:<merchant id>:<order_id>`` (order
ids are the merchant's own, so they are scoped by merchant); reporting it is the clearing event
``<merchant id>:order:<order_id>`` — the same order reported again is the same event and changes
nothing. A refund is the event ``<merchant id>:<order_id>:refund:<refund_id>``.

Both services decide under the purchase's row lock, so two refunds sent at once (with different
``Idempotency-Key``\\ s) cannot both pass the "refund exceeds order" check on the same stale read.
"""

import hashlib
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction

from campaigns.errors import OrderAlreadyReportedError, OrderNotFoundError, RefundExceedsOrderError
from campaigns.models import Purchase
from campaigns.rules import LineItem
from campaigns.selectors import partner_order_external_id
from campaigns.services.purchases import purchase_event_apply
from merchants.errors import CustomerNotFoundError
from merchants.models import CustomerLink, Merchant
from merchants.services import customer_match

SOURCE = Purchase.Source.PARTNER
MAX_EVENT_ID = 100


def partner_refund_event_id(*, merchant_id: int, order_id: str, refund_id: str) -> str:
    """The refund's event id; a digest when the merchant's ids would make it too long."""
    event_id = f"{merchant_id}:{order_id}:refund:{refund_id}"
    if len(event_id) <= MAX_EVENT_ID:
        return event_id
    digest = hashlib.sha256(f"{order_id}\n{refund_id}".encode()).hexdigest()
    return f"{merchant_id}:refund:{digest}"


def partner_order_record(
    *,
    merchant: Merchant,
    order_id: str,
    customer_email: str,
    customer_reference: str,
    amount_minor: int,
    currency: str,
    occurred_at: datetime,
    location_id: int | None = None,
    line_items: Sequence[LineItem] = (),
) -> Purchase:
    """Record a reported order as the cleared purchase of the matching member; returns it, fresh.

    Raises ``CustomerNotFoundError`` when no member matches the customer, and
    ``OrderAlreadyReportedError`` when the order id was reported before with another customer or
    amount (the same order again changes nothing). The caller validated the fields.
    """
    with transaction.atomic():
        user = customer_match(
            merchant=merchant,
            source=CustomerLink.Source.PARTNER,
            external_id=customer_reference,
            email=customer_email,
        )
        if user is None:
            raise CustomerNotFoundError()
        purchase = purchase_event_apply(
            source=SOURCE,
            event_id=f"{merchant.pk}:order:{order_id}",
            kind="clearing",
            external_id=partner_order_external_id(merchant_id=merchant.pk, order_id=order_id),
            amount_minor=amount_minor,
            currency=currency,
            occurred_at=occurred_at,
            user=user,
            merchant=merchant,
            location=merchant.locations.filter(pk=location_id).first() if location_id else None,
            line_items=line_items,
        )
        # Still under the row lock purchase_event_apply took: what was recorded under this order id.
        purchase.refresh_from_db()
        if purchase.user_id != user.pk or purchase.cleared_minor != amount_minor:
            raise OrderAlreadyReportedError()
    return purchase


def partner_refund_record(
    *, merchant: Merchant, order_id: str, refund_id: str, amount_minor: int, occurred_at: datetime
) -> Purchase:
    """Apply a refund of (part of) a reported order; returns the order's purchase, fresh.

    Under the purchase's row lock: ``OrderNotFoundError`` for an order the merchant never reported,
    ``RefundExceedsOrderError`` when ``amount_minor`` is more than what is left of the order after
    the refunds already applied. A refund id applied before is a replay and changes nothing.
    """
    with transaction.atomic():
        purchase = (
            Purchase.objects.select_for_update(of=("self",))
            .filter(
                source=SOURCE,
                merchant=merchant,
                external_id=partner_order_external_id(merchant_id=merchant.pk, order_id=order_id),
            )
            .select_related("user", "location")
            .first()
        )
        if purchase is None:
            raise OrderNotFoundError()
        if amount_minor > purchase.amount_minor - purchase.refunded_minor:
            raise RefundExceedsOrderError()
        event_id = partner_refund_event_id(merchant_id=merchant.pk, order_id=order_id, refund_id=refund_id)
        purchase_event_apply(
            source=SOURCE,
            event_id=event_id,
            kind="refund",
            external_id=event_id,
            original_external_id=purchase.external_id,
            amount_minor=amount_minor,
            currency=purchase.currency,
            occurred_at=occurred_at,
            user=purchase.user,
            merchant=merchant,
            location=purchase.location,
        )
        purchase.refresh_from_db()
    return purchase
