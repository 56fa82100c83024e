"""Reads of the sales-target programmes, each limited to what the viewer's role and regions allow:

- sales: the customers they registered and those customers' contracts;
- regional head: every customer and contract in their regions;
- programme, marketing and finance admins: everything of their brand owner.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from programmes.models import (
    ADMIN_ROLES,
    BusinessCustomer,
    Contract,
    FieldRole,
    FieldRoleKind,
    Programme,
    Region,
    RegionBudget,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User

EXPIRING_WITHIN_DAYS = 30


def field_role_for(*, user: User | AnonymousUser, merchant_id: int) -> FieldRole | None:
    """The person's role at this merchant's brand owner, or None (not a brand owner, or no role there)."""
    if not user.is_authenticated:
        return None
    return (
        FieldRole.objects.select_related("brand_owner__merchant", "user")
        .filter(brand_owner__merchant_id=merchant_id, user=user)
        .first()
    )


def field_roles_of(*, user: User | AnonymousUser) -> list[FieldRole]:
    if not user.is_authenticated:
        return []
    return list(FieldRole.objects.select_related("brand_owner__merchant").filter(user=user))


def has_field_roles(*, user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and FieldRole.objects.filter(user=user).exists())


def visible_regions(*, role: FieldRole) -> QuerySet[Region]:
    regions = Region.objects.filter(brand_owner_id=role.brand_owner_id)
    if role.role in ADMIN_ROLES:
        return regions
    return regions.filter(field_roles=role)


def visible_customers(*, role: FieldRole) -> QuerySet[BusinessCustomer]:
    customers = BusinessCustomer.objects.filter(brand_owner_id=role.brand_owner_id).select_related("region")
    if role.role == FieldRoleKind.SALES:
        return customers.filter(registered_by=role.user, region__in=visible_regions(role=role))
    if role.role == FieldRoleKind.REGIONAL_HEAD:
        return customers.filter(region__in=visible_regions(role=role))
    return customers


def visible_contracts(*, role: FieldRole) -> QuerySet[Contract]:
    return (
        Contract.objects.filter(customer__in=visible_customers(role=role))
        .select_related("programme", "customer__region", "proposed_by")
        .order_by("-created_at", "-id")
    )


def live_programmes(*, role: FieldRole, today: datetime.date | None = None) -> QuerySet[Programme]:
    today = today or timezone.localdate()
    return Programme.objects.filter(brand_owner_id=role.brand_owner_id, ends_on__gte=today).order_by("starts_on", "pk")


def programmes_of(*, role: FieldRole) -> QuerySet[Programme]:
    return Programme.objects.filter(brand_owner_id=role.brand_owner_id).order_by("-starts_on", "pk")


@dataclass(frozen=True)
class TierProgress:
    rank: int
    threshold: int
    reward_minor: int
    reached: bool
    paid: bool


def contract_progress(*, contract: Contract) -> list[TierProgress]:
    paid = set(contract.tier_rewards.values_list("tier_id", flat=True))
    return [
        TierProgress(
            rank=tier.rank,
            threshold=tier.threshold,
            reward_minor=tier.reward_minor,
            reached=contract.achieved >= tier.threshold,
            paid=tier.pk in paid,
        )
        for tier in contract.programme.tiers.order_by("rank")
    ]


def contract_target(*, contract: Contract) -> int:
    """The contract's full target: its programme's highest tier."""
    return max((tier.threshold for tier in contract.programme.tiers.all()), default=0)


@dataclass(frozen=True)
class AchievementRow:
    label: str
    contracts: int
    achieved: int
    target: int

    @property
    def percent(self) -> int:
        return round(100 * self.achieved / self.target) if self.target else 0


@dataclass
class Dashboard:
    programme: Programme
    by_region: list[AchievementRow]
    by_sales_person: list[AchievementRow]
    budgets: list[RegionBudget]
    expiring: list[Contract]
    growth: int
    tactical: int
    proposed: int


def dashboard(*, role: FieldRole, programme: Programme, today: datetime.date | None = None) -> Dashboard:
    """Achievement against target of the approved contracts by region and by sales person, budgets,
    contracts expiring soon and the contract summary — within the viewer's regions. A handful of
    aggregate queries whatever the number of contracts."""
    today = today or timezone.localdate()
    target = max(programme.tiers.values_list("threshold", flat=True), default=0)
    contracts = visible_contracts(role=role).filter(programme=programme)
    approved = contracts.filter(status=Contract.Status.APPROVED)

    def rows(group: str, label_field: str) -> list[AchievementRow]:
        grouped = (
            approved.values(group, label_field)
            .annotate(n=Count("pk"), achieved_sum=Sum("achieved"))
            .order_by(label_field, group)
        )
        return [
            AchievementRow(
                label=str(row[label_field] or "—"),
                contracts=row["n"],
                achieved=int(row["achieved_sum"] or 0),
                target=target * row["n"],
            )
            for row in grouped
        ]

    summary = contracts.aggregate(
        growth=Count("pk", filter=Q(status=Contract.Status.APPROVED, contract_type=Contract.Type.GROWTH)),
        tactical=Count("pk", filter=Q(status=Contract.Status.APPROVED, contract_type=Contract.Type.TACTICAL)),
        proposed=Count("pk", filter=Q(status=Contract.Status.PROPOSED)),
    )
    expiring = list(
        approved.filter(
            expires_on__gte=today, expires_on__lte=today + datetime.timedelta(days=EXPIRING_WITHIN_DAYS)
        ).order_by("expires_on", "pk")[:20]
    )
    budgets = list(
        RegionBudget.objects.filter(programme=programme, region__in=visible_regions(role=role)).select_related("region")
    )
    return Dashboard(
        programme=programme,
        by_region=rows("customer__region_id", "customer__region__name"),
        by_sales_person=rows("proposed_by_id", "proposed_by__full_name"),
        budgets=budgets,
        expiring=expiring,
        growth=summary["growth"],
        tactical=summary["tactical"],
        proposed=summary["proposed"],
    )


@dataclass(frozen=True)
class CustomerContractView:
    contract: Contract
    target: int
    percent: int
    tiers_paid: int
    tiers: int


def contracts_of_customer_person(*, user: User, limit: int = 5) -> list[CustomerContractView]:
    """The open contracts of the businesses registered with this person's number, for their own wallet:
    what they achieved against the top target and how many tiers were paid (two queries)."""
    contracts = list(
        Contract.objects.filter(customer__user=user, status=Contract.Status.APPROVED)
        .select_related("programme__brand_owner__merchant", "customer")
        .prefetch_related("programme__tiers", "tier_rewards")
        .order_by("expires_on", "pk")[:limit]
    )
    views = []
    for contract in contracts:
        tiers = list(contract.programme.tiers.all())
        target = max((tier.threshold for tier in tiers), default=0)
        views.append(
            CustomerContractView(
                contract=contract,
                target=target,
                percent=min(100, round(100 * contract.achieved / target)) if target else 0,
                tiers_paid=len(contract.tier_rewards.all()),
                tiers=len(tiers),
            )
        )
    return views
