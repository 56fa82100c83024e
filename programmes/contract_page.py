"""Reads for one contract as its business customer sees it (``/wallet/programmes/<id>/``): who may see it,
and what counted towards it — sales-file lines, partner orders, Stripe invoices and card purchases at
linked shops — newest first, as one paginated list (a UNION of three indexed queries)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat

from programmes.models import (
    OPEN_CONTRACT_STATUSES,
    Contract,
    ContractStatus,
    FieldRole,
    PurchaseSale,
    PurchaseValue,
    SalesLine,
    TargetKind,
)
from programmes.selectors import visible_contracts

if TYPE_CHECKING:
    from accounts.models import User

# What a row of "what counted" came from (the ``kind`` column of ``counted_rows``).
CSV_UPLOAD = "csv_upload"
PARTNER_ORDER = "partner_order"
COLUMNS = ("kind", "day", "reference", "detail", "quantity", "value_minor", "at", "row_id")
CUSTOMER_STATUSES = (*OPEN_CONTRACT_STATUSES, ContractStatus.CANCELLED, ContractStatus.EXPIRED)


def contract_for_viewer(*, user: User, contract_id: int) -> Contract | None:
    """The contract if ``user`` is its customer's person, or field staff who see it; else None (a 404)."""
    contracts = Contract.objects.select_related("programme__brand_owner__merchant", "customer__region")
    contract = contracts.filter(pk=contract_id).first()
    if contract is None:
        return None
    if contract.customer.user_id == user.pk and contract.status in CUSTOMER_STATUSES:
        return contract
    role = FieldRole.objects.filter(user=user, brand_owner_id=contract.programme.brand_owner_id).first()
    if role is not None and visible_contracts(role=role).filter(pk=contract.pk).exists():
        return contract
    return None


def contracts_of_person(*, user: User) -> QuerySet[Contract]:
    """Every contract of the businesses registered with this person's number (rejected ones left out)."""
    return (
        Contract.objects.filter(customer__user=user, status__in=CUSTOMER_STATUSES)
        .select_related("programme__brand_owner__merchant", "customer")
        .order_by("-expires_on", "-pk")
    )


def counted_rows(*, contract: Contract) -> QuerySet[Any]:
    """What counted towards the contract, newest first: dicts with ``kind`` (csv_upload, partner_order,
    card, stripe_invoice), ``day``, ``reference``, ``detail``, ``quantity``, ``value_minor``, ``at`` (when
    it was recorded) and ``row_id`` — as tuples in that order (``COLUMNS``). Card
    purchases and Stripe invoices only for a value target (they carry no products)."""
    programme = contract.programme
    counts = Q(product__in=programme.products.all()) | Q(product__brand__in=programme.brands.all())
    within = {
        "customer_id": contract.customer_id,
        "sold_on__gte": contract.starts_on,
        "sold_on__lte": contract.expires_on,
    }
    text = CharField()
    columns = COLUMNS
    lines = (
        SalesLine.objects.filter(counts, **within)
        .annotate(
            kind=Value(CSV_UPLOAD, output_field=text),
            day=F("sold_on"),
            reference=F("upload__filename"),
            detail=Concat(F("product__sku"), Value(" "), F("product__name"), output_field=text),
            at=F("created_at"),
            row_id=F("pk"),
        )
        .values_list(*columns)
        .order_by()  # no ordering inside a compound statement (SQLite refuses it); the union orders
    )
    orders = (
        PurchaseSale.objects.filter(counts, **within)
        .annotate(
            kind=Value(PARTNER_ORDER, output_field=text),
            day=F("sold_on"),
            reference=Cast("purchase_id", output_field=text),
            detail=Concat(F("product__sku"), Value(" "), F("product__name"), output_field=text),
            at=F("created_at"),
            row_id=F("pk"),
        )
        .values_list(*columns)
        .order_by()
    )
    union = lines.union(orders, all=True)
    if programme.target_kind == TargetKind.VALUE:
        values = (
            PurchaseValue.objects.filter(**within)
            .annotate(
                kind=F("source"),
                day=F("sold_on"),
                detail=F("merchant_name"),
                quantity=Value(None, output_field=PurchaseValue._meta.get_field("value_minor")),
                at=F("created_at"),
                row_id=F("pk"),
            )
            .values_list(*columns)
            .order_by()
        )
        union = union.union(values, all=True)
    return union.order_by("-day", "-at", "-row_id")
