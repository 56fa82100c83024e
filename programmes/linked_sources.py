"""Achievement from purchases without products (issue 20): card purchases at the shops a business
customer trades as on the platform, and paid Stripe invoices of its Stripe customer on the brand owner's
connected Stripe account. They carry an amount and no products, so they count towards contracts whose
target is a *value* only; a volume target ignores them.

Linking (``source_link_shop``, ``source_link_stripe``, ``source_unlink``): the programme admin, or the
customer's sales person or regional head (in their regions). Each change is written to the history of the
customer's open contracts (``ContractEvent`` ``source_linked`` / ``source_unlinked``) and the link row
keeps who linked and who removed it. A Stripe customer id is also linked, on the brand owner's merchant, to
the customer's person (``merchants`` ``CustomerLink``, as the partner API links one), so the Stripe
handlers match its invoices to them.

Counting: campaigns announces ``purchase_recorded`` after a card purchase changes at a merchant that is
(or was) someone's linked shop, and after a Stripe invoice changes on a brand owner's account with a linked
Stripe customer — ``sources_watched``, registered with campaigns' merchant cache, so other card and Stripe
purchases cost nothing more; linking invalidates that merchant's entry (a source stays watched after
unlinking: refunds still count).
``linked_purchase_apply`` runs after that commit in its own transaction. A new link also counts what the
source already recorded since the earliest start of the customer's open contracts
(``source_link_catch_up``, a task a few seconds after the commit: it also covers purchases a worker
recorded before it saw the link). Purchases count by their date within a contract's dates, as sales files
do; a purchase after a link was removed does not count.

Per (customer, purchase) one ``PurchaseValue`` row holds the amount net of refunds (a replay changes
nothing, a refund lowers it, a reversal makes it 0), then the customer's approved value contracts are
recounted and paid through ``services.contract_settle`` (each tier once, under the contract's and the
budget's locks). A Stripe invoice whose lines already matched the brand owner's products counts through
those lines (``PurchaseSale``) and not here as well.

Lock order: the business customer's row, then (in ``contract_settle``) the contract's and its budget's.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Collection
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from campaigns import merchant_cache
from campaigns.models import Purchase
from merchants.models import CustomerLink, Merchant
from merchants.services.customers import customer_link_save
from programmes import services
from programmes.errors import InvalidSourceLinkError, RoleNotAllowedError, SourceAlreadyLinkedError
from programmes.models import (
    OPEN_CONTRACT_STATUSES,
    BusinessCustomer,
    Contract,
    ContractEvent,
    CustomerSourceLink,
    FieldRole,
    FieldRoleKind,
    PurchaseSale,
    PurchaseValue,
    TargetKind,
)

if TYPE_CHECKING:
    from accounts.models import User

STRIPE_CUSTOMER_ID = re.compile(r"^cus_[A-Za-z0-9]{4,60}$")
CATCH_UP_AFTER_SECONDS = 5
LINKING_ROLES = (FieldRoleKind.SALES, FieldRoleKind.REGIONAL_HEAD, FieldRoleKind.PROGRAMME_ADMIN)


def _may_link(role: FieldRole, customer: BusinessCustomer) -> None:
    if role.role not in LINKING_ROLES or customer.brand_owner_id != role.brand_owner_id:
        raise RoleNotAllowedError()
    if role.role == FieldRoleKind.PROGRAMME_ADMIN:
        return
    if not role.regions.filter(pk=customer.region_id).exists():
        raise RoleNotAllowedError()
    if role.role == FieldRoleKind.SALES and customer.registered_by_id != role.user_id:
        raise RoleNotAllowedError()


def _history(customer: BusinessCustomer, action: str, actor: User, link: CustomerSourceLink) -> None:
    label = link.stripe_customer_id or f"{link.merchant.display_name} ({link.merchant.organisation_number})"
    for contract in Contract.objects.filter(customer=customer, status__in=OPEN_CONTRACT_STATUSES):
        ContractEvent.objects.create(
            contract=contract, action=action, actor=actor, details={"source": link.kind, "label": label}
        )


def _link_create(
    *, role: FieldRole, customer: BusinessCustomer, kind: str, merchant: Merchant, stripe_customer_id: str = ""
) -> CustomerSourceLink:
    try:
        with transaction.atomic():
            link = CustomerSourceLink.objects.create(
                brand_owner_id=customer.brand_owner_id,
                customer=customer,
                kind=kind,
                merchant=merchant,
                stripe_customer_id=stripe_customer_id,
                linked_by=role.user,
            )
    except IntegrityError as error:  # linked already (to this customer or another), perhaps a moment ago
        raise SourceAlreadyLinkedError() from error
    _history(customer, ContractEvent.Action.SOURCE_LINKED, role.user, link)
    merchant_cache.invalidate(merchant.pk)
    link_id = link.pk
    transaction.on_commit(lambda: _catch_up_later(link_id))
    return link


def _catch_up_later(link_id: int) -> None:
    # The tasks module imports this one: an import cycle.
    from programmes.tasks import source_link_catch_up

    # After the workers' merchant caches have seen the link (they check every second).
    source_link_catch_up.apply_async(args=(link_id,), countdown=CATCH_UP_AFTER_SECONDS)


@transaction.atomic
def source_link_shop(*, role: FieldRole, customer: BusinessCustomer, organisation_number: str) -> CustomerSourceLink:
    """Card purchases at the platform's shop with this organisation number count for ``customer``."""
    _may_link(role, customer)
    number = re.sub(r"[\s.-]", "", organisation_number)
    field = "organisation_number"
    shop = Merchant.objects.filter(organisation_number=number).order_by("pk").first() if number.isdigit() else None
    if shop is None:
        message = gettext("No shop on the platform has this organisation number.")
        raise InvalidSourceLinkError(message, fields={field: [message]})
    if shop.pk == customer.brand_owner.merchant_id:
        message = gettext("This is the brand owner itself, not the customer's shop.")
        raise InvalidSourceLinkError(message, fields={field: [message]})
    if shop.currency != customer.brand_owner.currency:
        message = gettext("This shop sells in %(currency)s; the programmes count in %(own)s.") % {
            "currency": shop.currency,
            "own": customer.brand_owner.currency,
        }
        raise InvalidSourceLinkError(message, fields={field: [message]})
    return _link_create(role=role, customer=customer, kind=CustomerSourceLink.Kind.SHOP, merchant=shop)


@transaction.atomic
def source_link_stripe(*, role: FieldRole, customer: BusinessCustomer, stripe_customer_id: str) -> CustomerSourceLink:
    """Paid invoices of this Stripe customer on the brand owner's Stripe account count for ``customer``."""
    _may_link(role, customer)
    field = "stripe_customer_id"
    external_id = stripe_customer_id.strip()
    if not STRIPE_CUSTOMER_ID.match(external_id):
        message = gettext("Enter the Stripe customer id, e.g. cus_NffrFeUfNV2Hib.")
        raise InvalidSourceLinkError(message, fields={field: [message]})
    merchant = customer.brand_owner.merchant
    existing = CustomerLink.objects.filter(
        merchant=merchant, source=CustomerLink.Source.STRIPE, external_id=external_id
    ).first()
    if existing is not None and existing.user_id != customer.user_id:
        message = gettext("This Stripe customer belongs to another member of the platform.")
        raise SourceAlreadyLinkedError(message, fields={field: [message]})
    link = _link_create(
        role=role,
        customer=customer,
        kind=CustomerSourceLink.Kind.STRIPE_CUSTOMER,
        merchant=merchant,
        stripe_customer_id=external_id,
    )
    customer_link_save(
        merchant=merchant,
        source=CustomerLink.Source.STRIPE,
        external_id=external_id,
        user=customer.user,
        via=CustomerLink.Via.PARTNER_API,  # the brand owner (the merchant) links it, as through its API
    )
    return link


@transaction.atomic
def source_unlink(*, role: FieldRole, link: CustomerSourceLink) -> CustomerSourceLink:
    """Later purchases of the source no longer count; what counted stays (the tiers it paid stay paid)."""
    link = CustomerSourceLink.objects.select_for_update().select_related("customer", "merchant").get(pk=link.pk)
    _may_link(role, link.customer)
    if link.removed_at is None:
        link.removed_at = timezone.now()
        link.removed_by = role.user
        link.save(update_fields=["removed_at", "removed_by", "updated_at"])
        _history(link.customer, ContractEvent.Action.SOURCE_UNLINKED, role.user, link)
    return link


def sources_watched(merchant_ids: Collection[int]) -> set[int]:
    """Campaigns' merchant-cache watcher: which of the merchants are someone's linked shop, or a brand
    owner with a linked Stripe customer — now or before (a refund of a purchase made while it was linked
    must still lower the achievement)? One query for all of them."""
    return set(
        CustomerSourceLink.objects.filter(merchant_id__in=merchant_ids)
        .values_list("merchant_id", flat=True)
        .order_by()
        .distinct()
    )


# --- Counting ---------------------------------------------------------------------------------------


def _linked_customers(purchase: Purchase) -> list[BusinessCustomer]:
    """The business customers a card purchase or Stripe invoice counts for (linked when it happened or
    still linked: a link removed before the purchase does not count it)."""
    links = CustomerSourceLink.objects.filter(merchant_id=purchase.merchant_id).exclude(
        removed_at__lt=purchase.occurred_at
    )
    if purchase.source == Purchase.Source.CARD:
        links = links.filter(kind=CustomerSourceLink.Kind.SHOP)
    elif purchase.source == Purchase.Source.STRIPE and purchase.external_id.startswith("in_") and purchase.user_id:
        stripe_ids = CustomerLink.objects.filter(
            merchant_id=purchase.merchant_id, source=CustomerLink.Source.STRIPE, user_id=purchase.user_id
        ).values("external_id")
        links = links.filter(
            kind=CustomerSourceLink.Kind.STRIPE_CUSTOMER,
            stripe_customer_id__in=stripe_ids,
            customer__user_id=purchase.user_id,
            customer__brand_owner__merchant_id=purchase.merchant_id,
        )
    else:
        return []
    customer_ids = sorted(set(links.values_list("customer_id", flat=True)))
    return list(BusinessCustomer.objects.filter(pk__in=customer_ids).select_related("brand_owner__merchant"))


def purchase_value(*, purchase: Purchase, currency: str) -> int:
    """What the purchase counts: its amount net of refunds; 0 when reversed or in another currency."""
    if purchase.reversed or purchase.currency != currency:
        return 0
    return max(purchase.amount_minor - purchase.refunded_minor, 0)


def _value_set(customer: BusinessCustomer, purchase: Purchase) -> bool:
    """Store what the purchase counts for the (locked) customer; whether anything changed."""
    value = purchase_value(purchase=purchase, currency=customer.brand_owner.currency)
    if PurchaseSale.objects.filter(purchase_id=purchase.pk, customer=customer).exists():
        value = 0  # its lines named the brand owner's products: counted through them already
    row = PurchaseValue.objects.filter(customer=customer, purchase_id=purchase.pk).first()
    sold_on = timezone.localdate(purchase.occurred_at)
    if row is None and value == 0:
        return False
    if row is not None and row.value_minor == value and row.sold_on == sold_on:
        return False  # a replay: nothing changed
    PurchaseValue.objects.update_or_create(
        customer=customer,
        purchase_id=purchase.pk,
        defaults={
            "source": PurchaseValue.Source.CARD
            if purchase.source == Purchase.Source.CARD
            else PurchaseValue.Source.STRIPE_INVOICE,
            "reference": purchase.external_id[:100],
            "merchant_name": purchase.merchant.display_name[:100],
            "sold_on": sold_on,
            "value_minor": value,
        },
    )
    return True


def _value_contracts_settle(customer: BusinessCustomer) -> int:
    contracts = Contract.objects.filter(
        customer=customer, status=Contract.Status.APPROVED, programme__target_kind=TargetKind.VALUE
    ).order_by("pk")
    count = 0
    for contract in contracts:
        services.contract_settle(contract=contract)
        count += 1
    return count


def linked_purchase_apply(*, purchase_id: int, user_id: int, merchant_id: int) -> int:
    """The ``purchase_recorded`` subscriber for linked shops and Stripe customers. Returns the number of
    contracts recounted (0 when the purchase counts for nobody or nothing changed)."""
    purchase = Purchase.objects.filter(pk=purchase_id).select_related("merchant").first()
    if purchase is None:
        return 0
    recounted = 0
    for candidate in _linked_customers(purchase):
        with transaction.atomic():
            customer = BusinessCustomer.objects.select_for_update().select_related("brand_owner__merchant")
            locked = customer.get(pk=candidate.pk)
            if _value_set(locked, purchase):
                recounted += _value_contracts_settle(locked)
    return recounted


def source_link_catch_up(*, link_id: int) -> int:
    """Count what a newly linked source recorded since the earliest start of the customer's open
    contracts, then recount them once. Safe to run twice (each purchase's row is set, not added).
    Returns the number of purchases looked at."""
    link = CustomerSourceLink.objects.select_related("customer").filter(pk=link_id, removed_at__isnull=True).first()
    if link is None:
        return 0
    starts = Contract.objects.filter(customer_id=link.customer_id, status__in=OPEN_CONTRACT_STATUSES).values_list(
        "starts_on", flat=True
    )
    earliest = min(starts, default=None)
    if earliest is None:
        return 0
    since = timezone.make_aware(datetime.datetime.combine(earliest - datetime.timedelta(days=1), datetime.time.min))
    purchases = Purchase.objects.filter(merchant_id=link.merchant_id, occurred_at__gte=since).select_related("merchant")
    if link.kind == CustomerSourceLink.Kind.SHOP:
        purchases = purchases.filter(source=Purchase.Source.CARD)
    else:
        purchases = purchases.filter(
            source=Purchase.Source.STRIPE, external_id__startswith="in_", user_id=link.customer.user_id
        )
    seen = 0
    with transaction.atomic():
        customer = (
            BusinessCustomer.objects.select_for_update()
            .select_related("brand_owner__merchant")
            .get(pk=link.customer_id)
        )
        for purchase in purchases.order_by("pk").iterator(chunk_size=500):
            seen += 1
            _value_set(customer, purchase)  # the query above is this link's match
        _value_contracts_settle(customer)
    return seen
