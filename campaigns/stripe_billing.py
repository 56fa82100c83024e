"""Business cashback read from a merchant's Stripe invoices (issue 21): the cashback price, the
service period, the base and credit prorations. Used by the handlers in campaigns.stripe_source.

A business customer is eligible when its invoice carries the **cashback price**: a zero-amount price
whose product's metadata holds ``cashback_rate`` (a fraction: ``0.01`` is 1 %). Line shapes of both
API versions are read (``price`` up to 2025-02-24.acacia, ``pricing.price_details`` later); the price
and its product are fetched from the connected account (``price_retrieve``) unless the event carries
them expanded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from campaigns.services.business_cashback import InvoiceReading
from cashback.providers.stripe_gateway import StripeGatewayError, get_stripe_gateway

RATE_KEY = "cashback_rate"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _lines(invoice: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    data = _mapping(invoice.get("lines")).get("data")
    return [line for line in data if isinstance(line, Mapping)] if isinstance(data, list) else []


def _price_id(line: Mapping[str, Any]) -> str:
    for price in (line.get("price"), _mapping(_mapping(line.get("pricing")).get("price_details")).get("price")):
        if isinstance(price, Mapping):
            price = price.get("id")
        if isinstance(price, str) and price:
            return price
    return ""


def _inline_price(line: Mapping[str, Any]) -> Mapping[str, Any]:
    price = line.get("price")
    if not isinstance(price, Mapping):
        price = _mapping(_mapping(line.get("pricing")).get("price_details")).get("price")
    return _mapping(price)


def _product_metadata(account_id: str, line: Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    """The zero-amount line's price's product metadata, and the product id (fetched when not expanded)."""
    price = _inline_price(line)
    if not isinstance(price.get("product"), Mapping):
        price_id = _price_id(line)
        if not price_id:
            return {}, ""
        try:
            price = get_stripe_gateway().price_retrieve(account_id=account_id, price_id=price_id)
        except StripeGatewayError as error:
            if error.retryable:
                raise  # the event fails and is retried later
            return {}, ""
    if _int(price.get("unit_amount")) not in (0, None):
        return {}, ""
    product = _mapping(price.get("product"))
    return _mapping(product.get("metadata")), str(product.get("id") or "")


def has_zero_amount_line(invoice: Mapping[str, Any]) -> bool:
    """Whether the invoice could carry the cashback price (a zero-amount line): nothing is fetched otherwise."""
    return any(_int(line.get("amount")) == 0 for line in _lines(invoice))


def cashback_rate(account_id: str, invoice: Mapping[str, Any]) -> tuple[Decimal | None, str, bool]:
    """(rate, problem, has cashback price). A malformed rate is a problem, not an error: the invoice
    is recorded as earning nothing and staff see why."""
    for line in _lines(invoice):
        if _int(line.get("amount")) != 0:
            continue
        metadata, product = _product_metadata(account_id, line)
        if RATE_KEY not in metadata:
            continue
        raw = metadata[RATE_KEY]
        try:
            rate = Decimal(str(raw).strip())
        except InvalidOperation:
            rate = None
        if rate is None or not rate.is_finite() or rate <= 0 or rate > 1 or rate != rate.quantize(Decimal("0.000001")):
            return (
                None,
                f"cashback_rate {str(raw)[:40]!r} on product {product} is not a fraction between 0 and 1.",
                True,
            )
        return rate, "", True
    return None, "", False


def _moment(value: Any) -> datetime | None:
    number = _int(value)
    return datetime.fromtimestamp(number, tz=UTC) if number is not None else None


def _credited_invoice(line: Mapping[str, Any]) -> str:
    """The earlier invoice a credit proration line credits (both API versions), or ""."""
    parent = _mapping(line.get("parent"))
    candidates = [
        _mapping(parent.get("subscription_item_details")).get("proration_details"),
        _mapping(parent.get("invoice_item_details")).get("proration_details"),
        line.get("proration_details"),
    ]
    for details in candidates:
        invoice = _mapping(_mapping(details).get("credited_items")).get("invoice")
        if isinstance(invoice, str) and invoice:
            return invoice
    return ""


def subscription_id(invoice: Mapping[str, Any]) -> str:
    subscription = invoice.get("subscription") or _mapping(
        _mapping(invoice.get("parent")).get("subscription_details")
    ).get("subscription")
    if isinstance(subscription, Mapping):
        subscription = subscription.get("id")
    return subscription if isinstance(subscription, str) else ""


def invoice_reading(
    *, account_id: str, invoice: Mapping[str, Any], customer_id: str, currency: str
) -> InvoiceReading | None:
    """What the invoice says for business cashback, or None when it carries no cashback price."""
    rate, problem, has_price = cashback_rate(account_id, invoice)
    if not has_price:
        return None
    invoice_id = str(invoice["id"])
    positive = 0
    moved: list[tuple[str, str, int]] = []
    starts: list[datetime] = []
    ends: list[datetime] = []
    for line in _lines(invoice):
        amount = _int(line.get("amount")) or 0
        period = _mapping(line.get("period"))
        if amount > 0:
            positive += amount
            start, end = _moment(period.get("start")), _moment(period.get("end"))
            if start and end:
                starts.append(start)
                ends.append(end)
        elif amount < 0 and (credited := _credited_invoice(line)) and credited != invoice_id:
            moved.append((str(line.get("id") or f"{invoice_id}:{len(moved)}"), credited, -amount))
    total = _int(invoice.get("total_excluding_tax"))
    if total is None:
        total = _int(invoice.get("total"))
    if total is None:
        total = positive
    base = max(0, min(positive, total + sum(amount for _, _, amount in moved)))
    created = _moment(invoice.get("created")) or datetime.now(tz=UTC)
    start = min(starts) if starts else _moment(invoice.get("period_start")) or created
    end = max(ends) if ends else _moment(invoice.get("period_end")) or start
    return InvoiceReading(
        invoice_id=invoice_id,
        customer_id=customer_id,
        subscription_id=subscription_id(invoice),
        currency=currency,
        rate=rate,
        problem=problem,
        base_minor=base,
        period_start=start,
        period_end=max(start, end),
        credits=tuple(moved),
    )
