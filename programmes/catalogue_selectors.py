"""Reads of the rewards catalogue and the e-vouchers for the pages: a few queries each, paginated by the
views. Voucher codes are never read here: lists show ``VoucherCode.masked``."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from campaigns.tier_selectors import tier_standing
from programmes.catalogue_models import Redemption, RewardItem, Segment, VoucherBatch, VoucherCode
from programmes.models import BrandOwner, BusinessCustomer, Contract

if TYPE_CHECKING:
    from accounts.models import User


def catalogue_items(*, today: datetime.date | None = None) -> QuerySet[RewardItem]:
    """What members can browse: active items redeemable today, cheapest first."""
    today = today or timezone.localdate()
    return (
        RewardItem.objects.filter(is_active=True, valid_from__lte=today, valid_until__gte=today)
        .select_related("brand_owner__merchant", "min_tier", "programme")
        .order_by("price_kind", "price", "name", "pk")
    )


def catalogue_items_for(*, user: User, today: datetime.date | None = None) -> QuerySet[RewardItem]:
    """The live items ``user`` may redeem (the mobile app's catalogue): ``catalogue.item_refusal``'s
    rules — segment, programme, tier — as one SQL filter, so the list paginates. Items out of stock
    are listed with ``stock`` 0 (redeeming one answers ``out_of_stock``)."""
    customers = BusinessCustomer.objects.filter(brand_owner_id=OuterRef("brand_owner_id"), user=user)
    segment = (
        Q(segment=Segment.EVERYONE)
        | Q(Exists(customers), segment=Segment.BUSINESS_CUSTOMERS)
        | Q(Exists(customers.filter(kind=OuterRef("segment"))))
    )
    contracts = Contract.objects.filter(
        programme_id=OuterRef("programme_id"), customer__user=user, status=Contract.Status.APPROVED
    )
    programme = Q(programme__isnull=True) | Q(Exists(contracts))
    tier = tier_standing(user=user).tier
    tier_filter = Q(min_tier__isnull=True) | (Q(min_tier__rank__lte=tier.rank) if tier is not None else Q(pk__in=[]))
    return catalogue_items(today=today).filter(segment, programme, tier_filter)


def member_vouchers(*, user: User) -> QuerySet[VoucherCode]:
    return (
        VoucherCode.objects.filter(holder=user)
        .select_related("item__brand_owner__merchant")
        .order_by("-issued_at", "-pk")
    )


def member_redemptions(*, user: User) -> QuerySet[Redemption]:
    return Redemption.objects.filter(user=user).select_related("item").order_by("-created_at", "-pk")


def owner_items(*, brand_owner: BrandOwner) -> QuerySet[RewardItem]:
    """The brand owner's items with how many codes wait, are available and were issued (one query)."""
    return (
        RewardItem.objects.filter(brand_owner=brand_owner)
        .annotate(
            codes_pending=Count("codes", filter=Q(codes__status=VoucherCode.Status.PENDING)),
            codes_active=Count("codes", filter=Q(codes__status=VoucherCode.Status.ACTIVE)),
            codes_issued=Count("codes", filter=Q(codes__status__in=[VoucherCode.Status.ISSUED, "claimed"])),
        )
        .order_by("-is_active", "name", "pk")
    )


def item_batches(*, item: RewardItem) -> QuerySet[VoucherBatch]:
    return item.batches.select_related("uploaded_by", "decided_by").order_by("-created_at", "-pk")


def item_codes(*, item: RewardItem) -> QuerySet[VoucherCode]:
    return item.codes.select_related("holder").order_by("-pk")
