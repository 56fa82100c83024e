"""Stripe as a purchase source (F-T2): payments on merchants' connected Stripe accounts become
purchases. Handlers for the webhook inbox (source ``stripe_connect``, events posted to
/webhooks/stripe/connect/), registered in ``CampaignsConfig.ready()``: purchases from every source
belong to campaigns. The connection and customer links are merchant data, read and written through
``merchants.selectors`` and ``merchants.services``.

This is an inbound door, like the partner API: it turns Stripe's objects into calls of
``campaigns.services.purchase_event_apply`` (source ``stripe``) and holds no purchase logic.

- The merchant: ``event.account`` → ``StripeConnection`` (unknown account → ignored; payments on a
  disconnected account → ignored, its refunds still count).
- The consumer: a ``CustomerLink`` of the Stripe customer id, else the one member whose e-mail is
  the customer's (the id is then linked); nobody → ``Unmatched`` (staff see it and can retry).
- Amounts are Stripe's: integer minor units of a lower-case currency (NOK, SEK, DKK, EUR accepted;
  others ignored).

Counting each payment once:

- ``invoice.paid`` → a clearing of the purchase ``in_…`` for ``amount_paid``, with the invoice's
  lines as line items (product id as the product; ``metadata.category`` of the line or its price as
  the category).
- ``charge.succeeded`` → a clearing of ``ch_…`` — **unless the charge pays an invoice**
  (``charge.invoice`` set): then ``invoice.paid`` counts it and the charge is ignored. Stripe sets
  ``charge.invoice`` up to API version 2025-02-24.acacia: the Connect webhook endpoint must be pinned
  to such a version (docs/stripe-source.md). An uncaptured charge is an ``auth``;
  ``charge.captured`` then clears it with ``amount_captured``.
- ``charge.refunded`` → a refund of the charge's purchase (the invoice's, if it paid one) for what
  is *newly* refunded: the charge's cumulative ``amount_refunded`` minus what earlier events already
  applied (``StripeChargeRefundTotal``, row-locked). Event id ``<charge>:refunded_to:<cumulative>``:
  duplicates and older events arriving late add nothing.
- ``credit_note.created`` (after payment) → a refund of the invoice's purchase for the part of the
  credit note *not* refunded to the card (customer balance, out of band); the part refunded to the
  card comes as ``charge.refunded`` and is counted there. Credit notes before payment are ignored
  (they lower ``amount_paid`` instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction

from campaigns import services as purchases
from campaigns import stripe_billing
from campaigns.rules import LineItem
from campaigns.selectors import purchase_by_external_id
from campaigns.services import business_cashback as business
from cashback.amounts import AmountError, minor_units_from_outside
from cashback.inbox import Ignored, Unmatched, register
from cashback.models import WebhookEvent
from cashback.tasks import webhook_events_unmatched_retry
from merchants import services
from merchants.models import CustomerLink, StripeConnection
from merchants.selectors import stripe_connection_by_account, stripe_payment_invoice
from wallet.models import Currency

if TYPE_CHECKING:
    from accounts.models import User

SOURCE = "stripe"


def register_handlers() -> None:
    for event_type, handler in HANDLERS.items():
        register(source="stripe_connect", event_type=event_type, handler=handler)


# --- Reading Stripe objects ---------------------------------------------------------------------


def _object(event: WebhookEvent, expected: str) -> dict[str, Any]:
    data = event.payload.get("data") if isinstance(event.payload, Mapping) else None
    obj = data.get("object") if isinstance(data, Mapping) else None
    if not isinstance(obj, Mapping) or obj.get("object") != expected or not obj.get("id"):
        raise Ignored(f"The event does not carry a {expected} object.")
    return dict(obj)


def _connection(event: WebhookEvent, *, payments: bool) -> StripeConnection:
    account = event.account or (event.payload.get("account") if isinstance(event.payload, Mapping) else "") or ""
    connection = stripe_connection_by_account(account_id=account)
    if connection is None:
        raise Ignored(f"Stripe account {account or '(none)'} is not connected by any merchant.")
    if payments and connection.status == StripeConnection.Status.DISCONNECTED:
        raise Ignored(f"{connection.merchant} disconnected Stripe account {account}.")
    return connection


def _mapping(value: Any) -> Mapping[str, Any]:
    """A nested Stripe object, or an empty one when it is missing or not an object."""
    return value if isinstance(value, Mapping) else {}


def _currency(obj: Mapping[str, Any]) -> str:
    currency = str(obj.get("currency") or "").upper()
    if currency not in Currency.values:
        raise Ignored(f"Currency {currency or '(none)'} is not one the platform holds.")
    return currency


def _minor(value: Any, what: str, obj: Mapping[str, Any]) -> int:
    """The door's check (cashback/webhook_contract.py), so an event it accepted reads the same here."""
    try:
        return minor_units_from_outside(value, currency=str(obj.get("currency") or "").upper(), positive=False)
    except AmountError:
        raise Ignored(f"{what} is not an amount in minor units: {value!r}.") from None


def _moment(timestamp: Any) -> datetime:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise Ignored(f"Not a Unix timestamp: {timestamp!r}.")
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _customer_id_and_email(obj: Mapping[str, Any], *email_paths: tuple[str, ...]) -> tuple[str, str]:
    customer = obj.get("customer")
    email = ""
    if isinstance(customer, Mapping):  # expanded
        email = str(customer.get("email") or "")
        customer = customer.get("id")
    for path in email_paths:
        value: Any = obj
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if not email and isinstance(value, str):
            email = value
    return (customer if isinstance(customer, str) else ""), email


def _consumer(connection: StripeConnection, customer_id: str, email: str) -> User:
    user = services.customer_match(
        merchant=connection.merchant, source=CustomerLink.Source.STRIPE, external_id=customer_id, email=email
    )
    if user is None:
        raise Unmatched(f"No platform member for Stripe customer {customer_id or '(none)'}.")
    return user


def _line_price(line: Mapping[str, Any]) -> Mapping[str, Any]:
    """The line's price when the event carries it as an object: ``price`` up to 2025-02-24.acacia,
    ``pricing.price_details.price`` when expanded on current versions (by default only its id)."""
    price = line.get("price")
    if isinstance(price, Mapping):
        return price
    return _mapping(_mapping(_mapping(line.get("pricing")).get("price_details")).get("price"))


def _line_price_id(line: Mapping[str, Any]) -> str:
    """The line's price id, in either API version's shape."""
    for price in (line.get("price"), _mapping(_mapping(line.get("pricing")).get("price_details")).get("price")):
        if isinstance(price, Mapping):
            price = price.get("id")
        if isinstance(price, str) and price:
            return price
    return ""


def _line_items(invoice: Mapping[str, Any], amount_paid: int) -> list[LineItem]:
    """The invoice's lines as line items, or none when they cannot be trusted to add up (negative
    proration lines, more than one page, a total above what was paid)."""
    lines = invoice.get("lines")
    if not isinstance(lines, Mapping) or lines.get("has_more") or not isinstance(lines.get("data"), list):
        return []
    items: list[LineItem] = []
    for line in lines["data"]:
        if not isinstance(line, Mapping):
            return []
        amount = line.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            return []
        price = _line_price(line)
        details = _mapping(_mapping(line.get("pricing")).get("price_details"))
        product = price.get("product") or details.get("product") or ""
        if isinstance(product, Mapping):  # expanded
            product = product.get("id") or ""
        category = (
            _mapping(line.get("metadata")).get("category") or _mapping(price.get("metadata")).get("category") or ""
        )
        quantity = line.get("quantity")
        if not isinstance(quantity, int) or quantity <= 0:
            quantity = 1
        items.append(
            LineItem(amount_minor=amount, quantity=quantity, category=str(category)[:100], product=str(product)[:100])
        )
    if sum(item.amount_minor for item in items) > amount_paid:
        return []
    return items


# --- Handlers -------------------------------------------------------------------------------------


def invoice_paid(event: WebhookEvent) -> None:
    invoice = _object(event, "invoice")
    if _mapping(invoice.get("metadata")).get("cashback_merchant_invoice"):
        # The platform's own invoice to a merchant (merchants.billing_webhooks), not a purchase.
        raise Ignored(f"Invoice {invoice['id']} is the platform's invoice to a merchant.")
    connection = _connection(event, payments=True)
    transitions = _mapping(invoice.get("status_transitions"))
    billed = _business_invoice_seen(
        connection, invoice, paid_at=_moment(transitions.get("paid_at") or invoice.get("created"))
    )
    try:
        _invoice_purchase(event, connection, invoice)
    except Ignored:
        if billed:  # recorded for business cashback: that is the work this event did
            return
        raise


def invoice_finalized(event: WebhookEvent) -> None:
    """``invoice.finalized`` starts business cashback: the invoice's lines say whether the customer's
    plan carries the cashback price (its opt-in is recorded then); ``invoice.paid`` confirms it."""
    invoice = _object(event, "invoice")
    if _mapping(invoice.get("metadata")).get("cashback_merchant_invoice"):
        raise Ignored(f"Invoice {invoice['id']} is the platform's invoice to a merchant.")
    connection = _connection(event, payments=True)
    if not _business_invoice_seen(connection, invoice, paid_at=None):
        raise Ignored(f"Invoice {invoice['id']} carries no cashback price: the plan earns no business cashback.")


def _business_invoice_seen(
    connection: StripeConnection, invoice: Mapping[str, Any], *, paid_at: datetime | None
) -> bool:
    """Record the invoice for business cashback when it carries the cashback price; False otherwise.
    A currency the platform does not hold or an unknown customer stops it here (ignored / unmatched,
    with the reason for staff)."""
    customer_id, email = _customer_id_and_email(invoice, ("customer_email",))
    transitions = _mapping(invoice.get("status_transitions"))
    finalized_at = _moment(transitions.get("finalized_at") or invoice.get("created"))
    reading = None
    if stripe_billing.has_zero_amount_line(invoice):  # only such an invoice can carry the cashback price
        reading = stripe_billing.invoice_reading(
            account_id=connection.stripe_account_id,
            invoice=invoice,
            customer_id=customer_id,
            currency=_currency(invoice),
        )
    if reading is None:
        # Its plan no longer carries the cashback price: a customer who had opted in has opted out.
        return business.billing_opt_out_record(
            merchant=connection.merchant,
            customer_id=customer_id,
            subscription_id=stripe_billing.subscription_id(invoice),
            at=finalized_at,
        )
    user = _consumer(connection, customer_id, email)
    business.billing_invoice_record(
        merchant=connection.merchant, user_id=user.pk, reading=reading, finalized_at=finalized_at, paid_at=paid_at
    )
    # A credit note that came before its invoice waits as unmatched: try it again now.
    transaction.on_commit(webhook_events_unmatched_retry.delay)
    return True


def _invoice_purchase(event: WebhookEvent, connection: StripeConnection, invoice: dict[str, Any]) -> None:
    amount_paid = _minor(invoice.get("amount_paid"), "amount_paid", invoice)
    if amount_paid == 0:
        raise Ignored(f"Invoice {invoice['id']} was paid without money (credit or a zero total).")
    currency = _currency(invoice)
    user = _consumer(connection, *_customer_id_and_email(invoice, ("customer_email",)))
    transitions = _mapping(invoice.get("status_transitions"))
    purchases.purchase_event_apply(
        source=SOURCE,
        event_id=event.event_id,
        kind="clearing",
        external_id=invoice["id"],
        amount_minor=amount_paid,
        currency=currency,
        occurred_at=_moment(transitions.get("paid_at") or invoice.get("created")),
        user=user,
        merchant=connection.merchant,
        line_items=_line_items(invoice, amount_paid),
    )
    for payment_ref in _invoice_payment_refs(invoice):
        _invoice_claims_payment(event, connection, invoice_id=invoice["id"], payment_ref=payment_ref)


def _invoice_payment_refs(invoice: Mapping[str, Any]) -> list[str]:
    """The payments an invoice names: ``payment_intent``/``charge`` up to 2025-02-24.acacia, the
    (expanded) ``payments`` list on current versions."""
    refs = [invoice.get("payment_intent"), invoice.get("charge")]
    payments = _mapping(invoice.get("payments")).get("data")
    for payment in payments if isinstance(payments, list) else []:
        refs.append(_payment_ref(_mapping(_mapping(payment).get("payment"))))
    return list(dict.fromkeys(ref for ref in refs if isinstance(ref, str) and ref))


def _payment_ref(payment: Mapping[str, Any]) -> str:
    """An invoice payment's ``payment``: its PaymentIntent, else its bare charge (ids or expanded)."""
    for key in ("payment_intent", "charge"):
        value = payment.get(key)
        if isinstance(value, Mapping):
            value = value.get("id")
        if isinstance(value, str) and value:
            return value
    return ""


def _invoice_claims_payment(
    event: WebhookEvent, connection: StripeConnection, *, invoice_id: str, payment_ref: str
) -> None:
    """Record that the payment paid the invoice; a charge of it that was counted as a purchase of its
    own before the invoice was known is reversed (once: the event id is derived from the charge)."""
    claim = services.stripe_payment_claim_for_invoice(
        merchant=connection.merchant, payment_ref=payment_ref, invoice_id=invoice_id
    )
    counted = (
        purchase_by_external_id(source=SOURCE, external_id=claim.charge_id, merchant=connection.merchant)
        if claim.charge_id
        else None
    )
    if counted is None:
        return
    reversal_id = f"{claim.charge_id}:pays_invoice"
    purchases.purchase_event_apply(
        source=SOURCE,
        event_id=reversal_id,
        kind="reversal",
        external_id=reversal_id,
        original_external_id=claim.charge_id,
        amount_minor=0,
        currency=counted.currency,
        occurred_at=_moment(event.payload.get("created")),
        user=counted.user,
        merchant=connection.merchant,
    )


def invoice_payment_paid(event: WebhookEvent) -> None:
    """``invoice_payment.paid`` (current API versions): which payment paid which invoice, so that the
    invoice's charge counts once, whichever of ``charge.succeeded`` and this arrives first."""
    payment = _object(event, "invoice_payment")
    connection = _connection(event, payments=False)
    invoice_id = payment.get("invoice")
    if isinstance(invoice_id, Mapping):
        invoice_id = invoice_id.get("id")
    payment_ref = _payment_ref(_mapping(payment.get("payment")))
    if not isinstance(invoice_id, str) or not invoice_id or not payment_ref:
        raise Ignored(f"Invoice payment {payment['id']} names no invoice or no payment.")
    _invoice_claims_payment(event, connection, invoice_id=invoice_id, payment_ref=payment_ref)


def _charge_email_paths() -> tuple[tuple[str, ...], ...]:
    return (("billing_details", "email"), ("receipt_email",))


def _charge_pays_invoice(connection: StripeConnection, charge: Mapping[str, Any]) -> str:
    """The invoice a charge pays, or "" when it is a purchase of its own.

    Up to 2025-02-24.acacia the charge says so (``charge.invoice``). Current versions no longer send
    the field: the link comes from ``invoice_payment.paid``, which may arrive before or after. Under
    the payment's row lock the charge either finds its invoice (ignored here) or is recorded as
    counted, and the invoice reverses it when it comes."""
    if "invoice" in charge:
        invoice = charge.get("invoice")
        return invoice.get("id") or "" if isinstance(invoice, Mapping) else str(invoice or "")
    payment_intent = charge.get("payment_intent")
    if isinstance(payment_intent, Mapping):
        payment_intent = payment_intent.get("id")
    payment_ref = payment_intent if isinstance(payment_intent, str) and payment_intent else charge["id"]
    claim = services.stripe_payment_claim_for_charge(
        merchant=connection.merchant, payment_ref=payment_ref, charge_id=charge["id"]
    )
    if claim.charge_id and claim.charge_id != charge["id"]:
        raise Ignored(f"Charge {claim.charge_id} of the same payment was counted already.")
    return claim.invoice_id


def charge_succeeded(event: WebhookEvent) -> None:
    charge = _object(event, "charge")
    connection = _connection(event, payments=True)
    if charge.get("status") != "succeeded" or charge.get("paid") is False:
        raise Ignored(f"Charge {charge['id']} has not succeeded.")
    if invoice := _charge_pays_invoice(connection, charge):
        raise Ignored(f"Charge {charge['id']} pays invoice {invoice}: invoice.paid counts it.")
    captured = charge.get("captured", True) is not False
    amount = charge.get("amount_captured") if captured and charge.get("amount_captured") else charge.get("amount")
    _apply_charge(event, connection, charge, kind="clearing" if captured else "auth", amount=amount)


def charge_captured(event: WebhookEvent) -> None:
    charge = _object(event, "charge")
    connection = _connection(event, payments=True)
    if invoice := _charge_pays_invoice(connection, charge):
        raise Ignored(f"Charge {charge['id']} pays invoice {invoice}: invoice.paid counts it.")
    _apply_charge(event, connection, charge, kind="clearing", amount=charge.get("amount_captured"))


def _apply_charge(
    event: WebhookEvent, connection: StripeConnection, charge: dict[str, Any], *, kind: str, amount: Any
) -> None:
    amount_minor = _minor(amount, "amount", charge)
    if amount_minor == 0:
        raise Ignored(f"Charge {charge['id']} is for nothing.")
    currency = _currency(charge)
    user = _consumer(connection, *_customer_id_and_email(charge, *_charge_email_paths()))
    purchases.purchase_event_apply(
        source=SOURCE,
        event_id=event.event_id,
        kind=kind,
        external_id=charge["id"],
        amount_minor=amount_minor,
        currency=currency,
        occurred_at=_moment(charge.get("created")),
        user=user,
        merchant=connection.merchant,
    )


def charge_refunded(event: WebhookEvent) -> None:
    charge = _object(event, "charge")
    connection = _connection(event, payments=False)
    amount_refunded = _minor(charge.get("amount_refunded"), "amount_refunded", charge)
    currency = _currency(charge)
    user = _consumer(connection, *_customer_id_and_email(charge, *_charge_email_paths()))
    delta = services.stripe_refund_delta(
        merchant=connection.merchant, charge_id=charge["id"], amount_refunded_minor=amount_refunded
    )
    if delta == 0:
        raise Ignored(f"Nothing newly refunded on {charge['id']} (up to {amount_refunded} already counted).")
    refund_event_id = f"{charge['id']}:refunded_to:{amount_refunded}"
    refunded_purchase = _refunded_purchase_id(connection, charge)
    if refunded_purchase.startswith("in_"):  # an invoice's charge: kept for business cashback too
        business.billing_credit_record(
            merchant=connection.merchant, credit_ref=refund_event_id, invoice_id=refunded_purchase, amount_minor=delta
        )
    purchases.purchase_event_apply(
        source=SOURCE,
        event_id=refund_event_id,
        kind="refund",
        external_id=refund_event_id,
        original_external_id=refunded_purchase,
        amount_minor=delta,
        currency=currency,
        occurred_at=_moment(event.payload.get("created") or charge.get("created")),
        user=user,
        merchant=connection.merchant,
    )


def _refunded_purchase_id(connection: StripeConnection, charge: Mapping[str, Any]) -> str:
    """The purchase a refunded charge belongs to: its invoice's when it paid one (``charge.invoice``,
    or on current API versions the invoice recorded for its payment), else the charge's own."""
    invoice = charge.get("invoice")
    if isinstance(invoice, Mapping):
        invoice = invoice.get("id")
    if isinstance(invoice, str) and invoice:
        return invoice
    payment_intent = charge.get("payment_intent")
    if isinstance(payment_intent, Mapping):
        payment_intent = payment_intent.get("id")
    refs = [ref for ref in (payment_intent, charge["id"]) if isinstance(ref, str) and ref]
    return stripe_payment_invoice(merchant=connection.merchant, payment_refs=refs) or charge["id"]


def _refunded_to_card(credit_note: Mapping[str, Any]) -> int | None:
    """The part of a credit note refunded to the card, or None when Stripe does not say how much."""
    refunds = credit_note.get("refunds")
    if isinstance(refunds, list):
        total = 0
        for refund in refunds:
            amount = refund.get("amount_refunded") if isinstance(refund, Mapping) else None
            if isinstance(amount, int) and not isinstance(amount, bool) and amount > 0:
                total += amount
        return total
    return None if credit_note.get("refund") else 0


def _credit_note_consumer(connection: StripeConnection, credit_note: Mapping[str, Any], invoice_id: str) -> User:
    """A credit note has no e-mail of its own: its ``customer`` (a linked id, or the e-mail of the
    customer or invoice when expanded), else the member the credited invoice's purchase belongs to
    (the customer id is then linked to them)."""
    customer_id, email = _customer_id_and_email(credit_note, ("invoice", "customer_email"))
    user = services.customer_match(
        merchant=connection.merchant, source=CustomerLink.Source.STRIPE, external_id=customer_id, email=email
    )
    if user is None:
        invoice_purchase = purchase_by_external_id(source=SOURCE, external_id=invoice_id, merchant=connection.merchant)
        user = invoice_purchase.user if invoice_purchase else None
        if user is not None and customer_id:
            user = services.customer_link_save(
                merchant=connection.merchant,
                source=CustomerLink.Source.STRIPE,
                external_id=customer_id,
                user=user,
                via=CustomerLink.Via.INVOICE_MATCH,
            ).user
    if user is None:
        raise Unmatched(
            f"No platform member for Stripe customer {customer_id or '(none)'} of credit note {credit_note['id']}, "
            f"and invoice {invoice_id} is not a purchase yet."
        )
    return user


def credit_note_created(event: WebhookEvent) -> None:
    credit_note = _object(event, "credit_note")
    connection = _connection(event, payments=False)
    if credit_note.get("type") == "pre_payment":
        raise Ignored(f"Credit note {credit_note['id']} was issued before payment: amount_paid reflects it.")
    if credit_note.get("status") == "void":
        raise Ignored(f"Credit note {credit_note['id']} is void.")
    invoice_id = credit_note.get("invoice")
    if isinstance(invoice_id, Mapping):  # expanded
        invoice_id = invoice_id.get("id")
    if not isinstance(invoice_id, str) or not invoice_id:
        raise Ignored(f"Credit note {credit_note['id']} names no invoice.")
    amount = _minor(credit_note.get("amount"), "amount", credit_note)
    to_card = _refunded_to_card(credit_note)
    if to_card is None:
        raise Ignored(f"Credit note {credit_note['id']} was refunded to the card: charge.refunded counts it.")
    clawback = amount - min(amount, to_card)
    if clawback == 0:
        raise Ignored(f"Credit note {credit_note['id']} was refunded to the card: charge.refunded counts it.")
    # Kept for business cashback whether or not the invoice has arrived (it counts once it does).
    business.billing_credit_record(
        merchant=connection.merchant, credit_ref=credit_note["id"], invoice_id=invoice_id, amount_minor=clawback
    )
    billed = business.billing_credit_known(merchant=connection.merchant, invoice_id=invoice_id)
    try:
        _credit_note_purchase_refund(event, connection, credit_note, invoice_id=invoice_id, clawback=clawback)
    except (Ignored, Unmatched):
        if billed:  # the business cashback credit is this event's work; the invoice was no purchase
            return
        raise


def _credit_note_purchase_refund(
    event: WebhookEvent, connection: StripeConnection, credit_note: dict[str, Any], *, invoice_id: str, clawback: int
) -> None:
    currency = _currency(credit_note)
    user = _credit_note_consumer(connection, credit_note, invoice_id)
    purchases.purchase_event_apply(
        source=SOURCE,
        event_id=event.event_id,
        kind="refund",
        external_id=credit_note["id"],
        original_external_id=invoice_id,
        amount_minor=clawback,
        currency=currency,
        occurred_at=_moment(credit_note.get("created")),
        user=user,
        merchant=connection.merchant,
    )


HANDLERS = {
    "invoice.finalized": invoice_finalized,
    "invoice.paid": invoice_paid,
    "charge.succeeded": charge_succeeded,
    "charge.captured": charge_captured,
    "charge.refunded": charge_refunded,
    "credit_note.created": credit_note_created,
    "invoice_payment.paid": invoice_payment_paid,
}
