"""Achievement from purchases the platform already sees (issue 20): an order reported through the partner
API with line items, by a brand owner's own merchant, for a person who is one of its business customers,
counts towards that customer's contracts like a line of an uploaded sales file.

Which purchases are feasible: only those with line items naming SKUs — partner API orders. A card
purchase carries an amount but no products, so it cannot count towards a brand's or product's target;
Stripe invoices reach the platform as a merchant's billing, not as a customer's purchase of products.

Campaigns announces ``purchase_recorded`` (purchase_id, user_id, merchant_id) after a purchase with line
items is recorded or changes (a refund, a reversal); this subscriber runs after that commit, in its own
transaction, never inside the teller's. It is idempotent per purchase: it recomputes the purchase's
``PurchaseSale`` rows from the purchase as it is now (a refund scales them down in proportion; a full
refund or reversal removes them) and recounts the customer's approved contracts, paying tiers reached
through the existing tier logic (``services.contract_settle``: each tier once). A tier already paid stays
paid when a refund lowers the achievement.

Lock order: the business customer's row, then (in ``contract_settle``) each contract's and its budget's.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from campaigns.models import Purchase
from programmes import services
from programmes.models import BrandOwner, BusinessCustomer, Contract, Product, PurchaseSale


def purchase_shares(*, purchase: Purchase, brand_owner: BrandOwner) -> dict[int, tuple[int, int]]:
    """Product id → (units, value in minor units) of the purchase as it stands, net of refunds. Lines
    whose SKU is not one of the brand owner's products are left out, as is a purchase in another
    currency than the brand owner's (a value target is counted in its own currency)."""
    amount = purchase.amount_minor
    if purchase.reversed or amount <= 0 or purchase.currency != brand_owner.currency:
        return {}
    remaining = max(amount - purchase.refunded_minor, 0)
    skus = {str(line.get("product") or "").strip() for line in purchase.line_items}
    products = {
        product.sku.casefold(): product.pk
        for product in Product.objects.filter(brand_owner=brand_owner, sku__in=[s for s in skus if s])
    }
    if len(products) < len(skus - {""}):  # a SKU in another case: match it as the sales files do not
        products.update(
            {p.sku.casefold(): p.pk for p in Product.objects.filter(brand_owner=brand_owner)}  # small master data
        )
    shares: dict[int, tuple[int, int]] = {}
    for line in purchase.line_items:
        product_id = products.get(str(line.get("product") or "").strip().casefold())
        if product_id is None:
            continue
        units = int(line.get("quantity") or 0) * remaining // amount
        value = int(line.get("amount_minor") or 0) * remaining // amount
        before = shares.get(product_id, (0, 0))
        shares[product_id] = (before[0] + units, before[1] + value)
    return {product_id: share for product_id, share in shares.items() if share != (0, 0)}


def purchase_achievement_apply(*, purchase_id: int, user_id: int, merchant_id: int) -> int:
    """The ``purchase_recorded`` subscriber. Returns the number of contracts recounted (0 when the
    purchase is not a business customer's order from a brand owner)."""
    brand_owner = BrandOwner.objects.select_related("merchant").filter(merchant_id=merchant_id).first()
    if brand_owner is None:
        return 0
    with transaction.atomic():
        customer = (
            BusinessCustomer.objects.select_for_update()
            .filter(brand_owner=brand_owner, user_id=user_id)
            .order_by("pk")
            .first()
        )
        if customer is None:
            return 0
        purchase = Purchase.objects.filter(pk=purchase_id).first()
        if purchase is None:
            return 0
        wanted = purchase_shares(purchase=purchase, brand_owner=brand_owner)
        have = {sale.product_id: sale for sale in PurchaseSale.objects.filter(purchase_id=purchase_id)}
        sold_on = timezone.localdate(purchase.occurred_at)
        if {pid: (s.quantity, s.value_minor) for pid, s in have.items()} == wanted and all(
            s.sold_on == sold_on and s.customer_id == customer.pk for s in have.values()
        ):
            return 0  # a replay: nothing changed
        PurchaseSale.objects.filter(purchase_id=purchase_id).exclude(product_id__in=list(wanted)).delete()
        for product_id, (units, value) in wanted.items():
            PurchaseSale.objects.update_or_create(
                purchase_id=purchase_id,
                product_id=product_id,
                defaults={"customer": customer, "sold_on": sold_on, "quantity": units, "value_minor": value},
            )
        contracts = list(Contract.objects.filter(customer=customer, status=Contract.Status.APPROVED).order_by("pk"))
        for contract in contracts:
            services.contract_settle(contract=contract)
        return len(contracts)
